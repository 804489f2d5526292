// What the fused kernels share (fused.cc, attention.cc): the argument reader of a
// kernel(heap, Float64Array args) call, a vectorizable exp, 16-lane reductions and the attention
// softmax's row steps, so that the composed and the fused attention round the same way.
#pragma once
#include "heap.h"
#include <algorithm>
#include <cmath>
#include <vector>

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
inline float fastExp(float x) {
  x = std::min(88.f, std::max(-87.f, x));
  float k = x * 1.44269504f + 12582912.f; k -= 12582912.f; // round to nearest
  float r = x - k * 0.693359375f + k * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f; p = p * r + 8.3334519073e-3f; p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f; p = p * r + 5.0000001201e-1f;
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
// The softmax's backward over one row of Tk: ds = scale * p * (dp - sum_j p dp).
inline void softmaxGradRow(const float* g, const float* pr, float* ds, int64_t Tk, float scale) {
  float dot = reduce16(Tk, 0.f, [&](int64_t j) { return g[j] * pr[j]; }, plus);
  for (int64_t j = 0; j < Tk; j++) ds[j] = scale * pr[j] * (g[j] - dot);
}

void causalAttention(Args& a);     // attention.cc
void causalAttentionGrad(Args& a); // attention.cc
