// Native fp32 GEMM for the tfjs wasm backend: C = op(A) op(B) (+ bias, relu), batched, on
// tensors that live in the wasm heap (one ArrayBuffer, offsets in bytes); and a fused AdamW
// step, which replaces a dozen elementwise wasm ops (and their allocations) per parameter.
// Packed B panels, A read in place where its rows are contiguous, and an 8x32 register-blocked
// micro-kernel (AVX-512 intrinsics, or GCC vector extensions that compile to AVX2 / SSE under
// -march=native). One thread: the caller runs one model per worker thread.
#include <node_api.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>
#include "heap.h"

typedef float v16 __attribute__((vector_size(64), aligned(4)));
static constexpr int MR = 8, NR = 32, KC = 256, NC = 1024, MC = 256;

// element (i, j) of a row-major matrix stored as [rows, cols], read as op(X)
static inline float at(const float* x, int ld, bool trans, int i, int j) { return trans ? x[(size_t)j * ld + i] : x[(size_t)i * ld + j]; }

// Pack an MR-row panel of op(A) for rows i0.., depth p0..p0+kc as [kc][MR]; rows past m repeat the last row.
static void packA(const float* a, int lda, bool ta, int m, int i0, int p0, int kc, float* out) {
  if (ta && i0 + MR <= m) { // MR adjacent values per depth step
    for (int p = 0; p < kc; p++) std::memcpy(out + p * MR, a + (size_t)(p0 + p) * lda + i0, MR * sizeof(float));
    return;
  }
  for (int r = 0; r < MR; r++) {
    int row = std::min(i0 + r, m - 1);
    if (ta) { const float* src = a + (size_t)p0 * lda + row; for (int p = 0; p < kc; p++) out[p * MR + r] = src[(size_t)p * lda]; }
    else { const float* src = a + (size_t)row * lda + p0; for (int p = 0; p < kc; p++) out[p * MR + r] = src[p]; }
  }
}
// Pack an NR-column panel of op(B) for columns j0.., depth p0..p0+kc, zero-padded past n.
static void packB(const float* b, int ldb, bool tb, int n, int j0, int p0, int kc, float* out) {
  for (int p = 0; p < kc; p++) {
    float* o = out + p * NR;
    if (!tb && j0 + NR <= n) { std::memcpy(o, b + (size_t)(p0 + p) * ldb + j0, NR * sizeof(float)); continue; }
    for (int c = 0; c < NR; c++) o[c] = (j0 + c < n) ? at(b, ldb, tb, p0 + p, j0 + c) : 0.f;
  }
}

// tile[MR][NR] = A rows [kc] x Bpanel[kc][NR], where row r's element p is arow[r][p * ps] (A in
// place, ps = 1, or a packed panel, ps = MR). The tile is written (first depth
// block) or added (later blocks) into C at c (row stride ldc), only its first rows x cols.
#ifdef __AVX512F__
#include <immintrin.h>
static inline void micro(int kc, const float* const* arow, int ps, const float* bp, float* c, int ldc, int rows, int cols, bool add) {
  const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3], *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
         c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  for (int p = 0, q = 0; p < kc; p++, q += ps, bp += NR) {
    __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16), a;
    a = _mm512_set1_ps(a0[q]); c00 = _mm512_fmadd_ps(a, b0, c00); c01 = _mm512_fmadd_ps(a, b1, c01);
    a = _mm512_set1_ps(a1[q]); c10 = _mm512_fmadd_ps(a, b0, c10); c11 = _mm512_fmadd_ps(a, b1, c11);
    a = _mm512_set1_ps(a2[q]); c20 = _mm512_fmadd_ps(a, b0, c20); c21 = _mm512_fmadd_ps(a, b1, c21);
    a = _mm512_set1_ps(a3[q]); c30 = _mm512_fmadd_ps(a, b0, c30); c31 = _mm512_fmadd_ps(a, b1, c31);
    a = _mm512_set1_ps(a4[q]); c40 = _mm512_fmadd_ps(a, b0, c40); c41 = _mm512_fmadd_ps(a, b1, c41);
    a = _mm512_set1_ps(a5[q]); c50 = _mm512_fmadd_ps(a, b0, c50); c51 = _mm512_fmadd_ps(a, b1, c51);
    a = _mm512_set1_ps(a6[q]); c60 = _mm512_fmadd_ps(a, b0, c60); c61 = _mm512_fmadd_ps(a, b1, c61);
    a = _mm512_set1_ps(a7[q]); c70 = _mm512_fmadd_ps(a, b0, c70); c71 = _mm512_fmadd_ps(a, b1, c71);
  }
  __m512 out[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
  for (int r = 0; r < rows; r++) {
    float* dst = c + (size_t)r * ldc;
    if (cols == NR) {
      if (add) { out[r][0] = _mm512_add_ps(out[r][0], _mm512_loadu_ps(dst)); out[r][1] = _mm512_add_ps(out[r][1], _mm512_loadu_ps(dst + 16)); }
      _mm512_storeu_ps(dst, out[r][0]); _mm512_storeu_ps(dst + 16, out[r][1]);
    } else {
      __mmask16 m0 = (__mmask16)((1u << std::min(cols, 16)) - 1), m1 = (__mmask16)(cols > 16 ? (1u << (cols - 16)) - 1 : 0);
      if (add) { out[r][0] = _mm512_add_ps(out[r][0], _mm512_maskz_loadu_ps(m0, dst)); out[r][1] = _mm512_add_ps(out[r][1], _mm512_maskz_loadu_ps(m1, dst + 16)); }
      _mm512_mask_storeu_ps(dst, m0, out[r][0]); _mm512_mask_storeu_ps(dst + 16, m1, out[r][1]);
    }
  }
}
#else
static inline void micro(int kc, const float* const* arow, int ps, const float* bp, float* c, int ldc, int rows, int cols, bool add) {
  v16 acc[MR][2];
  for (int r = 0; r < MR; r++) { acc[r][0] = v16{}; acc[r][1] = v16{}; }
  for (int p = 0; p < kc; p++) {
    v16 b0, b1; std::memcpy(&b0, bp + p * NR, 64); std::memcpy(&b1, bp + p * NR + 16, 64);
    for (int r = 0; r < MR; r++) { float a = arow[r][(size_t)p * ps]; acc[r][0] += a * b0; acc[r][1] += a * b1; }
  }
  float tile[MR * NR];
  for (int r = 0; r < MR; r++) { std::memcpy(tile + r * NR, &acc[r][0], 64); std::memcpy(tile + r * NR + 16, &acc[r][1], 64); }
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < cols; q++) c[(size_t)r * ldc + q] = (add ? c[(size_t)r * ldc + q] : 0.f) + tile[r * NR + q];
}
#endif

// Fewer rows than a micro-kernel's (a decoding step's attention, one query per head): each row of
// C is a sum of B's rows, vectorized along n; B^T is transposed once into a scratch buffer first.
static void gemmFewRows(int m, int n, int k, const float* a, int lda, bool ta, const float* b, int ldb, bool tb, float* c) {
  thread_local std::vector<float> btBuffer;
  if (tb) {
    float* bt = scratch(btBuffer, (size_t)k * n);
    for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) bt[(size_t)p * n + j] = b[(size_t)j * ldb + p];
    b = bt; ldb = n;
  }
  for (int i = 0; i < m; i++) {
    float* ci = c + (size_t)i * n;
    std::fill(ci, ci + n, 0.f);
    for (int p = 0; p < k; p++) {
      const float x = at(a, lda, ta, i, p); const float* bp = b + (size_t)p * ldb;
      for (int j = 0; j < n; j++) ci[j] += x * bp[j];
    }
  }
}

// C[m, n] = op(A)[m, k] op(B)[k, n]; lda/ldb are the stored row lengths.
static void gemm(int m, int n, int k, const float* a, int lda, bool ta, const float* b, int ldb, bool tb, float* c) {
  if (m < MR / 2) { gemmFewRows(m, n, k, a, lda, ta, b, ldb, tb, c); return; }
  if (k == 0) { for (int i = 0; i < m; i++) std::memset(c + (size_t)i * n, 0, n * sizeof(float)); return; }
  // op(A) = A^T is read down columns, and rows 4 KB apart share L1 sets: both are packed
  const bool packed = ta || lda % 1024 == 0;
  thread_local std::vector<float> aBuffer, bBuffer;
  float* bbuf = scratch(bBuffer, (size_t)NC * KC);
  float* abuf = packed ? scratch(aBuffer, (size_t)((m + MR - 1) / MR) * MR * KC) : nullptr;
  // equal depth blocks (784 = 4 x 196, not 3 x 256 + 16: a thin last block is all C traffic)
  int kBlock = (k + (k + KC - 1) / KC - 1) / ((k + KC - 1) / KC);
  for (int jc = 0; jc < n; jc += NC) {
    int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += kBlock) {
      int kc = std::min(kBlock, k - pc);
      for (int j = 0; j < nc; j += NR) packB(b, ldb, tb, n, jc + j, pc, kc, bbuf + (size_t)j * kc);
      if (packed) for (int i = 0; i < m; i += MR) packA(a, lda, ta, m, i, pc, kc, abuf + (size_t)i * kc);
      auto tile = [&](int i, int j) {
        const float* arow[MR]; // rows past m repeat the last row; their results are not stored
        for (int r = 0; r < MR; r++) arow[r] = packed ? abuf + (size_t)i * kc + r : a + (size_t)std::min(i + r, m - 1) * lda + pc;
        micro(kc, arow, packed ? MR : 1, bbuf + (size_t)j * kc, c + (size_t)i * n + jc + j, n, std::min(MR, m - i), std::min(NR, n - jc - j), pc > 0);
      };
      // Deep blocks: each B panel (kc x NR, the larger operand) stays in L1 while A's rows stream
      // past it. Shallow ones (the model's k = 16..64): MR rows of A stay in L1 and B streams.
      if (kc >= 128) {
        for (int ic = 0; ic < m; ic += MC) // MC rows of A (MC x kc) stay in L2 across the B panels
          for (int j = 0; j < nc; j += NR) for (int i = ic; i < std::min(m, ic + MC); i += MR) tile(i, j);
      }
      else { for (int i = 0; i < m; i += MR) for (int j = 0; j < nc; j += NR) tile(i, j); }
    }
  }
}

static bool intArg(napi_env env, napi_value v, int64_t* out) { return napi_get_value_int64(env, v, out) == napi_ok; }

// matmul(heap: ArrayBuffer, aOff, bOff, cOff, batchA, batchB, m, n, k, transA, transB, biasOff (-1: none), relu)
static napi_value MatMul(napi_env env, napi_callback_info info) {
  napi_value argv[13]; char* base; size_t bytes;
  if (!heapCall(env, info, "matmul", 13, argv, &base, &bytes)) return nullptr;
  int64_t v[12];
  for (int i = 0; i < 12; i++) if (i != 8 && i != 9 && i != 11 && !intArg(env, argv[i + 1], &v[i])) { napi_throw_type_error(env, nullptr, "matmul: integer arguments expected"); return nullptr; }
  bool ta, tb, relu;
  napi_get_value_bool(env, argv[9], &ta); napi_get_value_bool(env, argv[10], &tb); napi_get_value_bool(env, argv[12], &relu);
  int64_t aOff = v[0], bOff = v[1], cOff = v[2], batchA = v[3], batchB = v[4], m = v[5], n = v[6], k = v[7], biasOff = v[10];
  int64_t batch = std::max(batchA, batchB);
  auto fits = [&](int64_t off, int64_t count) { return off >= 0 && off % 4 == 0 && (size_t)(off + count * 4) <= bytes; };
  if (!fits(aOff, batchA * m * k) || !fits(bOff, batchB * k * n) || !fits(cOff, batch * m * n) || (biasOff >= 0 && !fits(biasOff, n))) {
    napi_throw_range_error(env, nullptr, "matmul: operand outside the heap"); return nullptr;
  }
  const float* A = reinterpret_cast<const float*>(base + aOff); const float* B = reinterpret_cast<const float*>(base + bOff);
  float* C = reinterpret_cast<float*>(base + cOff); const float* bias = biasOff >= 0 ? reinterpret_cast<const float*>(base + biasOff) : nullptr;
  int lda = ta ? (int)m : (int)k, ldb = tb ? (int)k : (int)n;
  for (int64_t s = 0; s < batch; s++) {
    float* c = C + s * m * n;
    gemm((int)m, (int)n, (int)k, A + (batchA == 1 ? 0 : s * m * k), lda, ta, B + (batchB == 1 ? 0 : s * k * n), ldb, tb, c);
    if (bias || relu)
      for (int64_t i = 0; i < m; i++) for (int64_t j = 0; j < n; j++) {
        float x = c[i * n + j] + (bias ? bias[j] : 0.f);
        c[i * n + j] = relu && x < 0.f ? 0.f : x;
      }
  }
  return nullptr;
}

// One AdamW step over n parameters; h = [beta1, beta2, 1 - beta1^t, 1 - beta2^t, eps, lr, decay, gradScale].
// A function of its own with restrict operands (the outputs are fresh tensors): inline in the
// N-API call, GCC did not vectorize the loop, and the step took 10x as long.
static void adamStep(const float* __restrict__ g, const float* __restrict__ m, const float* __restrict__ v,
                     const float* __restrict__ p, float* __restrict__ mo, float* __restrict__ vo, float* __restrict__ po,
                     int64_t n, const double* h) {
  const float b1 = (float)h[0], b2 = (float)h[1], c1 = (float)h[2], c2 = (float)h[3], eps = (float)h[4], lr = (float)h[5], wd = (float)h[6], scale = (float)h[7];
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i] * scale;
    float mi = b1 * m[i] + (1.f - b1) * gi, vi = b2 * v[i] + (1.f - b2) * gi * gi;
    float update = (mi / c1) / (std::sqrt(vi / c2) + eps) + wd * p[i];
    mo[i] = mi; vo[i] = vi; po[i] = p[i] - lr * update;
  }
}

// adam(heap, gOff, mOff, vOff, pOff, mOut, vOut, pOut, n, [beta1, beta2, c1, c2, eps, lr, weightDecay, gradScale]):
// one AdamW step over n values, reading the old moments and parameter and writing new ones.
static napi_value Adam(napi_env env, napi_callback_info info) {
  napi_value argv[10]; char* base; size_t bytes;
  if (!heapCall(env, info, "adam", 10, argv, &base, &bytes)) return nullptr;
  int64_t off[8];
  for (int i = 0; i < 8; i++) if (!intArg(env, argv[i + 1], &off[i])) { napi_throw_type_error(env, nullptr, "adam: integer arguments expected"); return nullptr; }
  double h[8]; void* hp;
  napi_typedarray_type type; size_t len; napi_value ab; size_t boff;
  if (napi_get_typedarray_info(env, argv[9], &type, &len, &hp, &ab, &boff) != napi_ok || type != napi_float64_array || len != 8) { napi_throw_type_error(env, nullptr, "adam: settings must be a Float64Array(8)"); return nullptr; }
  std::memcpy(h, hp, sizeof h);
  int64_t n = off[7];
  for (int i = 0; i < 7; i++) if (off[i] < 0 || off[i] % 4 != 0 || (size_t)(off[i] + n * 4) > bytes) { napi_throw_range_error(env, nullptr, "adam: operand outside the heap"); return nullptr; }
  const auto f32 = [&](int k) { return reinterpret_cast<float*>(base + off[k]); };
  adamStep(f32(0), f32(1), f32(2), f32(3), f32(4), f32(5), f32(6), n, h);
  return nullptr;
}

NAPI_MODULE_INIT() {
  exportFunction(env, exports, "matmul", MatMul);
  exportFunction(env, exports, "adam", Adam);
  exportFunction(env, exports, "drawTokens", DrawTokens);
  exportFunction(env, exports, "peakGflops", PeakGflops);
  registerFusedKernels(env, exports);
  return exports;
}
