// Causal self-attention, forward and backward, as one kernel each for training and teacher-forced
// scoring: q, k, v, the output and their gradients stay in the projections' layout [B, T, H, hd]
// (no head transposes), and the probabilities [B, H, T, T] are kept for the backward pass. Each
// sum is one multiply-add chain from 0 in ascending order, as in the native GEMM of the composed
// path (scores, softmax, p @ v), and the softmax rows are the same code (fused.h), so both paths
// give the same bits; masked keys (j > i) are skipped, where the composed path adds zeros.
#include "fused.h"
#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace {

// A head's row of hd <= 16 * NC floats in NC 16-lane vectors, and the multiply-add of the native
// GEMM's micro-kernel (gemm.cc): an fma on AVX-512, `acc + a * b` on vector extensions elsewhere.
#ifdef __AVX512F__
typedef __m512 vec;
inline vec vzero() { return _mm512_setzero_ps(); }
inline vec vload(const float* x, int64_t n) { return _mm512_maskz_loadu_ps(lanesOf(n), x); }
inline void vstore(float* x, vec v, int64_t n) { _mm512_mask_storeu_ps(x, lanesOf(n), v); }
inline vec vmadd(float a, vec b, vec acc) { return _mm512_fmadd_ps(_mm512_set1_ps(a), b, acc); }
#else
typedef float vec __attribute__((vector_size(64), aligned(4)));
inline int64_t clampLanes(int64_t n) { return std::max<int64_t>(0, std::min<int64_t>(n, 16)); }
inline vec vzero() { return vec{}; }
inline vec vload(const float* x, int64_t n) { vec v{}; std::memcpy(&v, x, clampLanes(n) * 4); return v; }
inline void vstore(float* x, vec v, int64_t n) { std::memcpy(x, &v, clampLanes(n) * 4); }
inline vec vmadd(float a, vec b, vec acc) { return acc + a * b; }
#endif
template <int NC> struct Row {
  vec v[NC];
  static Row zero() { Row r; for (int c = 0; c < NC; c++) r.v[c] = vzero(); return r; }
  static Row load(const float* x, int64_t hd) {
    Row r;
    for (int c = 0; c < NC; c++) r.v[c] = vload(x + 16 * c, hd - 16 * c);
    return r;
  }
  void store(float* x, int64_t hd) const { for (int c = 0; c < NC; c++) vstore(x + 16 * c, v[c], hd - 16 * c); }
  void madd(float a, const Row& x) { for (int c = 0; c < NC; c++) v[c] = vmadd(a, x.v[c], v[c]); }
};

// T rounded up to whole 16-lane vectors: the row length of a packed head
inline int64_t padded(int64_t T) { return (T + 15) / 16 * 16; }

// xt[c][j] = x[j][c] for one head (rows of x d apart), rows of Tp (T rounded up to 16, zero padded):
// a head's keys or values transposed, so that a row of scores runs along contiguous memory.
void packHeadTransposed(const float* x, int64_t T, int64_t Tp, int64_t d, int64_t hd, float* xt) {
  std::fill(xt, xt + hd * Tp, 0.f);
  for (int64_t j = 0; j < T; j++)
    for (int64_t c = 0; c < hd; c++) xt[c * Tp + j] = x[j * d + c];
}
// row[j] = sum_c a[c] xt[c][j] for j < n, 16 keys at a time
inline void rowTimesPacked(const float* a, const float* xt, int64_t Tp, int64_t hd, int64_t n, float* row) {
  for (int64_t j = 0; j < n; j += 16) {
    vec acc = vzero();
    for (int64_t c = 0; c < hd; c++) acc = vmadd(a[c], vload(xt + c * Tp + j, 16), acc);
    vstore(row + j, acc, n - j);
  }
}
// rowTimesPacked for four consecutive query rows a, a + as, ... sharing the packed keys: row r gets n + r entries
// (rows rs apart). Four independent chains per 16 keys instead of one latency-bound chain; each entry's sum is
// the same chain as rowTimesPacked's (c ascending from 0), so the bits are the same.
inline void rowTimesPacked4(const float* a, int64_t as, const float* xt, int64_t Tp, int64_t hd, int64_t n,
                            float* row, int64_t rs) {
  const float *a1 = a + as, *a2 = a1 + as, *a3 = a2 + as;
  for (int64_t j = 0; j < n + 3; j += 16) {
    vec c0 = vzero(), c1 = vzero(), c2 = vzero(), c3 = vzero();
    for (int64_t c = 0; c < hd; c++) {
      vec kc = vload(xt + c * Tp + j, 16);
      c0 = vmadd(a[c], kc, c0); c1 = vmadd(a1[c], kc, c1); c2 = vmadd(a2[c], kc, c2); c3 = vmadd(a3[c], kc, c3);
    }
    vstore(row + j, c0, n - j); vstore(row + rs + j, c1, n + 1 - j);
    vstore(row + 2 * rs + j, c2, n + 2 - j); vstore(row + 3 * rs + j, c3, n + 3 - j);
  }
}
// out = sum_{j < n} w[j * ws] x[j] (rows of x d apart, hd wide): one query's row of weights (ws 1), or one
// column of a causal matrix from its diagonal (ws T)
template <int NC>
void weightedRows(const float* w, int64_t ws, const float* x, int64_t n, int64_t d, int64_t hd, float* out) {
  Row<NC> acc = Row<NC>::zero();
  for (int64_t j = 0; j < n; j++) acc.madd(w[j * ws], Row<NC>::load(x + j * d, hd));
  acc.store(out, hd);
}
// weightedRows for four consecutive causal rows at once (row r of w, ws apart, sums n + r terms),
// four independent chains instead of one latency-bound chain; out rows d apart
template <int NC>
void weightedRows4(const float* w, int64_t ws, const float* x, int64_t n, int64_t d, int64_t hd, float* out) {
  const float *w1 = w + ws, *w2 = w1 + ws, *w3 = w2 + ws;
  Row<NC> a0 = Row<NC>::zero(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t j = 0; j < n; j++) {
    Row<NC> xj = Row<NC>::load(x + j * d, hd);
    a0.madd(w[j], xj); a1.madd(w1[j], xj); a2.madd(w2[j], xj); a3.madd(w3[j], xj);
  }
  Row<NC> x0 = Row<NC>::load(x + n * d, hd), x1 = Row<NC>::load(x + (n + 1) * d, hd);
  Row<NC> x2 = Row<NC>::load(x + (n + 2) * d, hd);
  a1.madd(w1[n], x0);
  a2.madd(w2[n], x0); a2.madd(w2[n + 1], x1);
  a3.madd(w3[n], x0); a3.madd(w3[n + 1], x1); a3.madd(w3[n + 2], x2);
  a0.store(out, hd); a1.store(out + d, hd); a2.store(out + 2 * d, hd); a3.store(out + 3 * d, hd);
}
// weightedRows down four columns of a causal [T, T] matrix from its diagonal, w = &m[j][j] (rows ws apart), times
// the rows x[j..]: out[r] = sum_{i >= r} w[i][r] x[i] over n >= 3 rows, in ascending i (r < 4); out rows d apart
template <int NC>
void columnSums4(const float* w, int64_t ws, const float* x, int64_t n, int64_t d, int64_t hd, float* out) {
  Row<NC> x0 = Row<NC>::load(x, hd), x1 = Row<NC>::load(x + d, hd), x2 = Row<NC>::load(x + 2 * d, hd);
  Row<NC> a0 = Row<NC>::zero(), a1 = a0, a2 = a0, a3 = a0;
  a0.madd(w[0], x0);
  a0.madd(w[ws], x1); a1.madd(w[ws + 1], x1);
  a0.madd(w[2 * ws], x2); a1.madd(w[2 * ws + 1], x2); a2.madd(w[2 * ws + 2], x2);
  for (int64_t i = 3; i < n; i++) {
    Row<NC> xi = Row<NC>::load(x + i * d, hd); const float* wi = w + i * ws;
    a0.madd(wi[0], xi); a1.madd(wi[1], xi); a2.madd(wi[2], xi); a3.madd(wi[3], xi);
  }
  a0.store(out, hd); a1.store(out + d, hd); a2.store(out + 2 * d, hd); a3.store(out + 3 * d, hd);
}
// One batch row and head of the forward pass: probabilities ph [T, T], output rows o (d apart).
template <int NC>
void attentionHead(const float* q, const float* k, const float* v, float* o, float* ph, int64_t T, int64_t d,
                   int64_t hd, float scale, float* kt) {
  const int64_t Tp = padded(T);
  packHeadTransposed(k, T, Tp, d, hd, kt);
  const auto scaled = [&](float* pr, int64_t lim) { for (int64_t j = 0; j < lim; j++) pr[j] = pr[j] * scale + 0.f; };
  int64_t r = 0; // query r sees keys 0..r
  for (; r + 4 <= T; r += 4) {
    rowTimesPacked4(q + r * d, d, kt, Tp, hd, r + 1, ph + r * T, T);
    for (int64_t x = 0; x < 4; x++) scaled(ph + (r + x) * T, r + 1 + x);
    softmaxRows4(ph + r * T, T, r + 1, T);
  }
  for (; r < T; r++) {
    rowTimesPacked(q + r * d, kt, Tp, hd, r + 1, ph + r * T);
    scaled(ph + r * T, r + 1);
    softmaxRow(ph + r * T, r + 1, T);
  }
  int64_t i = 0;
  for (; i + 4 <= T; i += 4) weightedRows4<NC>(ph + i * T, T, v, i + 1, d, hd, o + i * d);
  for (; i < T; i++) weightedRows<NC>(ph + i * T, 1, v, i + 1, d, hd, o + i * d);
}

// One batch row and head of the backward pass; scratch holds hd * Tp + 4 * Tp + T * T floats.
template <int NC>
void attentionHeadGrad(const float* dout, const float* q, const float* k, const float* v, const float* ph, float* dq,
                       float* dk, float* dv, int64_t T, int64_t d, int64_t hd, float scale, float* scratch) {
  const int64_t Tp = padded(T);
  // dp: four rows of Tp; ds [T, T]: the score gradients
  float* vt = scratch; float* dp = vt + hd * Tp; float* ds = dp + 4 * Tp;
  packHeadTransposed(v, T, Tp, d, hd, vt);
  // row r of dp (query r sees keys 0..r) zeroed past r, then its score gradients
  const auto scoreGrads = [&](int64_t r, float* dpr) {
    for (int64_t j = r + 1; j < T; j++) dpr[j] = 0.f;
    softmaxGradRow(dpr, ph + r * T, ds + r * T, T, scale);
  };
  int64_t r = 0;
  for (; r + 4 <= T; r += 4) {
    rowTimesPacked4(dout + r * d, d, vt, Tp, hd, r + 1, dp, Tp); // dp = do v^T, four rows
    for (int64_t x = 0; x < 4; x++) scoreGrads(r + x, dp + x * Tp);
  }
  for (; r < T; r++) {
    rowTimesPacked(dout + r * d, vt, Tp, hd, r + 1, dp);
    scoreGrads(r, dp);
  }
  int64_t i = 0;
  for (; i + 4 <= T; i += 4) weightedRows4<NC>(ds + i * T, T, k, i + 1, d, hd, dq + i * d); // dq = ds k
  for (; i < T; i++) weightedRows<NC>(ds + i * T, 1, k, i + 1, d, hd, dq + i * d);
  // column j sums over queries i >= j (the masked ones above are zeros)
  int64_t j = 0;
  for (; j + 4 <= T; j += 4) {
    columnSums4<NC>(ds + j * T + j, T, q + j * d, T - j, d, hd, dk + j * d);    // dk = ds^T q
    columnSums4<NC>(ph + j * T + j, T, dout + j * d, T - j, d, hd, dv + j * d); // dv = p^T do
  }
  for (; j < T; j++) {
    weightedRows<NC>(ds + j * T + j, T, q + j * d, T - j, d, hd, dk + j * d);
    weightedRows<NC>(ph + j * T + j, T, dout + j * d, T - j, d, hd, dv + j * d);
  }
}

bool headsFit(Args& a, int64_t hd) {
  if (hd >= 1 && hd <= 32) return true;
  char msg[96]; std::snprintf(msg, sizeof msg, "%s: heads of 1 to 32 values expected, got %lld", a.name, (long long)hd);
  napi_throw_range_error(a.env, nullptr, msg);
  return false;
}

} // namespace

// o = softmax(scale q k^T, causal) v per batch row and head; p [B, H, T, T] the probabilities.
void causalAttention(Args& a) {
  int64_t B = a.i(5), T = a.i(6), H = a.i(7), hd = a.i(8), d = H * hd, n = B * T * d;
  float scale = a.f(9);
  const float* q = a.at<float>(0, n); const float* k = a.at<float>(1, n); const float* v = a.at<float>(2, n);
  float* o = a.at<float>(3, n); float* p = a.at<float>(4, B * H * T * T);
  if (!a.ok || !headsFit(a, hd)) return;
  thread_local std::vector<float> buffer;
  float* kt = scratch(buffer, hd * padded(T));
  auto forward = hd <= 16 ? attentionHead<1> : attentionHead<2>;
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++) {
      const int64_t head = b * T * d + h * hd;
      float* ph = p + (b * H + h) * T * T;
      forward(q + head, k + head, v + head, o + head, ph, T, d, hd, scale, kt);
    }
}

// dq, dk, dv from do, with the forward's q, k, v and probabilities p.
void causalAttentionGrad(Args& a) {
  int64_t B = a.i(8), T = a.i(9), H = a.i(10), hd = a.i(11), d = H * hd, n = B * T * d;
  float scale = a.f(12);
  const float* dout = a.at<float>(0, n); const float* q = a.at<float>(1, n); const float* k = a.at<float>(2, n);
  const float* v = a.at<float>(3, n); const float* p = a.at<float>(4, B * H * T * T);
  float* dq = a.at<float>(5, n); float* dk = a.at<float>(6, n); float* dv = a.at<float>(7, n);
  if (!a.ok || !headsFit(a, hd)) return;
  thread_local std::vector<float> buffer;
  const int64_t Tp = padded(T);
  float* work = scratch(buffer, hd * Tp + 4 * Tp + T * T);
  auto grad = hd <= 16 ? attentionHeadGrad<1> : attentionHeadGrad<2>;
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++) {
      const int64_t head = b * T * d + h * hd;
      const float* ph = p + (b * H + h) * T * T;
      grad(dout + head, q + head, k + head, v + head, ph, dq + head, dk + head, dv + head, T, d, hd, scale, work);
    }
}
