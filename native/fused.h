// What the fused kernels share (fused.cc, attention.cc): the argument reader of a
// kernel(heap, Float64Array args) call, a vectorizable exp, 16-lane reductions and the attention
// softmax's row steps, so that the composed and the fused attention round the same way.
#pragma once
#include "heap.h"
#include <algorithm>
#include <cmath>
#include <vector>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

struct Args {
  napi_env env; const char* name; char* base; size_t bytes; const double* v; size_t n; bool ok = true;
  int64_t i(size_t k) const { return (int64_t)v[k]; }
  float f(size_t k) const { return (float)v[k]; }
  // the operand at offset v[k] holding `count` 4-byte values, or null (offset -1) when optional
  template <class T> T* at(size_t k, int64_t count, bool optional = false) {
    int64_t off = i(k);
    if (optional && off < 0) return nullptr;
    if (ok && (off < 0 || off % 4 != 0 || count < 0 || (size_t)(off + count * 4) > bytes)) {
      char msg[96]; std::snprintf(msg, sizeof msg, "%s: operand %zu outside the heap", name, k);
      napi_throw_range_error(env, nullptr, msg); ok = false;
    }
    return ok ? reinterpret_cast<T*>(base + off) : nullptr;
  }
};

// exp on floats as plain arithmetic so that loops over it vectorize: 2^n * e^r with
// |r| <= ln2/2 and a degree-6 polynomial (Cephes' expf coefficients), ~1 ulp on [-87, 88].
// Its constants (fastExpV uses the same): log2(e), the round-to-nearest shift 1.5 * 2^23, ln2 in two parts, the
// polynomial's coefficients from the highest power down.
constexpr float EXP_LOG2E = 1.44269504f, EXP_ROUND = 12582912.f;
constexpr float EXP_LN2_HI = 0.693359375f, EXP_LN2_LO = 2.12194440e-4f;
constexpr float EXP_POLY[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                               4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
inline float fastExp(float x) {
  x = std::min(88.f, std::max(-87.f, x));
  float k = x * EXP_LOG2E + EXP_ROUND; k -= EXP_ROUND; // round to nearest
  float r = x - k * EXP_LN2_HI + k * EXP_LN2_LO;
  float p = EXP_POLY[0];
  for (int c = 1; c < 6; c++) p = p * r + EXP_POLY[c];
  float y = p * r * r + r + 1.f;
  int32_t bits = ((int32_t)k + 127) << 23; float scale; std::memcpy(&scale, &bits, 4);
  return y * scale;
}
inline float sigmoid(float x) { return 1.f / (1.f + fastExp(-x)); }

// Reductions in 16 independent lanes, which vectorize without reassociating float math.
template <class F> inline float reduce16(int64_t n, float init, F term, float (*combine)(float, float)) {
  float acc[16]; std::fill(acc, acc + 16, init); int64_t j = 0;
  for (; j + 16 <= n; j += 16) for (int l = 0; l < 16; l++) acc[l] = combine(acc[l], term(j + l));
  float r = init;
  for (; j < n; j++) r = combine(r, term(j));
  for (int l = 0; l < 16; l++) r = combine(r, acc[l]);
  return r;
}
inline float plus(float a, float b) { return a + b; }
inline float larger(float a, float b) { return a > b ? a : b; }
inline float sumOf(const float* x, int64_t n) { return reduce16(n, 0.f, [&](int64_t j) { return x[j]; }, plus); }
inline float maxOf(const float* x, int64_t n) { return reduce16(n, -INFINITY, [&](int64_t j) { return x[j]; }, larger); }

// A row of scaled scores, pr[0..lim), made probabilities in place; pr[lim..Tk) set to 0 (masked keys).
inline void softmaxRow(float* pr, int64_t lim, int64_t Tk) {
  float mx = maxOf(pr, lim);
  for (int64_t j = 0; j < lim; j++) pr[j] = fastExp(pr[j] - mx);
  float inv = 1.f / sumOf(pr, lim);
  for (int64_t j = 0; j < lim; j++) pr[j] *= inv;
  for (int64_t j = lim; j < Tk; j++) pr[j] = 0.f;
}
#ifdef __AVX512F__
// GCC 12 warns of the undefined vector its own intrinsics pass through (_mm512_max_ps and others), falsely
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// the first n of 16 lanes (none for n <= 0, all for n >= 16)
inline __mmask16 lanesOf(int64_t n) { return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1); }
// the largest of 16 lanes (any order gives it: no NaN reaches a softmax row)
inline float maxOfLanes(__m512 m) {
  float lane[16];
  _mm512_storeu_ps(lane, m);
  return maxOf(lane, 16);
}
// fastExp on 16 lanes: the same operations, fused as the compiler fuses fastExp (multiply-adds), so the same bits
// (checked on every float from -100 to 1)
inline __m512 fastExpV(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(88.f), _mm512_max_ps(_mm512_set1_ps(-87.f), x));
  __m512 k = _mm512_fmadd_ps(x, _mm512_set1_ps(EXP_LOG2E), _mm512_set1_ps(EXP_ROUND));
  k = _mm512_sub_ps(k, _mm512_set1_ps(EXP_ROUND));
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(EXP_LN2_HI), x);
  r = _mm512_fmadd_ps(k, _mm512_set1_ps(EXP_LN2_LO), r);
  __m512 p = _mm512_set1_ps(EXP_POLY[0]);
  for (int c = 1; c < 6; c++) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_POLY[c]));
  __m512 y = _mm512_fmadd_ps(r, _mm512_mul_ps(r, p), r);
  y = _mm512_add_ps(y, _mm512_set1_ps(1.f));
  __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(k), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(y, _mm512_castsi512_ps(e));
}
// Four consecutive causal rows (row r: lim + r probabilities, rows rs apart) made probabilities in place, each to
// the bit as softmaxRow makes it: the maximum is order-free, the exps are fastExp's operations on 16 lanes, and each
// row's sum keeps reduce16's order (lanes over whole blocks, then the tail, then the lanes), the four rows' chains
// interleaved so that they overlap instead of waiting on one another. Masked keys set to 0 up to Tk.
inline void softmaxRows4(float* pr, int64_t rs, int64_t lim, int64_t Tk) {
  float terms[4][32];
  for (int q = 0; q < 4; q++) {
    float* row = pr + q * rs;
    const int64_t n = lim + q, full = n / 16 * 16;
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 m = ninf;
    for (int64_t j = 0; j < n; j += 16) m = _mm512_max_ps(m, _mm512_mask_loadu_ps(ninf, lanesOf(n - j), row + j));
    const __m512 mx = _mm512_set1_ps(maxOfLanes(m));
    __m512 acc = _mm512_setzero_ps();
    for (int64_t j = 0; j < full; j += 16) {
      __m512 e = fastExpV(_mm512_sub_ps(_mm512_loadu_ps(row + j), mx));
      _mm512_storeu_ps(row + j, e);
      acc = _mm512_add_ps(acc, e);
    }
    const __mmask16 tail = lanesOf(n - full);
    __m512 e = fastExpV(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + full), mx));
    _mm512_mask_storeu_ps(row + full, tail, e);
    // the chain's terms: the tail in order, then the 16 lanes, then zeros (the terms are positive: adding a
    // zero changes no sum)
    _mm512_storeu_ps(terms[q] + 16, _mm512_setzero_ps());
    _mm512_storeu_ps(terms[q], _mm512_maskz_compress_ps(tail, e));
    _mm512_storeu_ps(terms[q] + (n - full), acc);
  }
  float total[4] = {0.f, 0.f, 0.f, 0.f};
  for (int s = 0; s < 32; s++)
    for (int q = 0; q < 4; q++) total[q] += terms[q][s];
  for (int q = 0; q < 4; q++) {
    float* row = pr + q * rs;
    const int64_t n = lim + q;
    const __m512 inv = _mm512_set1_ps(1.f / total[q]);
    for (int64_t j = 0; j < n; j += 16) {
      const __mmask16 k = lanesOf(n - j);
      _mm512_mask_storeu_ps(row + j, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, row + j), inv));
    }
    for (int64_t j = n; j < Tk; j += 16) _mm512_mask_storeu_ps(row + j, lanesOf(Tk - j), _mm512_setzero_ps());
  }
}
#pragma GCC diagnostic pop
#else
inline void softmaxRows4(float* pr, int64_t rs, int64_t lim, int64_t Tk) {
  for (int q = 0; q < 4; q++) softmaxRow(pr + q * rs, lim + q, Tk);
}
#endif
// The softmax's backward over one row of Tk: ds = scale * p * (dp - sum_j p dp).
inline void softmaxGradRow(const float* g, const float* pr, float* ds, int64_t Tk, float scale) {
  float dot = reduce16(Tk, 0.f, [&](int64_t j) { return g[j] * pr[j]; }, plus);
  for (int64_t j = 0; j < Tk; j++) ds[j] = scale * pr[j] * (g[j] - dot);
}

void causalAttention(Args& a);     // attention.cc
void causalAttentionGrad(Args& a); // attention.cc
