// Fused kernels of the embedded Llama's training step, forward and backward, each one pass
// over its operands where tfjs wasm runs several ops (and allocates a tensor per op): RMSNorm,
// the SwiGLU gate, rotary positions, the attention softmax with its masks, softmax
// cross-entropy, and row gather / scatter-add for the embedding (causal self-attention as a
// whole: attention.cc). Every call is kernel(heap, Float64Array args): byte offsets into the
// wasm heap (-1 = none), sizes, scalars.
#include "fused.h"

namespace {

// y = x / rms(x) * w over rows of d; rstd[i] = 1 / rms(row i)
void rmsNorm(Args& a) {
  int64_t N = a.i(4), d = a.i(5); float eps = a.f(6);
  const float* x = a.at<float>(0, N * d); const float* w = a.at<float>(1, d); float* y = a.at<float>(2, N * d); float* rstd = a.at<float>(3, N);
  if (!a.ok) return;
  for (int64_t r = 0; r < N; r++) {
    const float* xr = x + r * d;
    float ss = reduce16(d, 0.f, [&](int64_t j) { return xr[j] * xr[j]; }, plus);
    float s = 1.f / std::sqrt(ss / d + eps); rstd[r] = s;
    for (int64_t j = 0; j < d; j++) y[r * d + j] = xr[j] * s * w[j];
  }
}
// dx = s w dy - x s^3 (sum_k w dy x) / d, dw = sum over rows of dy x s
void rmsNormGrad(Args& a) {
  int64_t N = a.i(6), d = a.i(7);
  const float* dy = a.at<float>(0, N * d); const float* x = a.at<float>(1, N * d); const float* w = a.at<float>(2, d); const float* rstd = a.at<float>(3, N);
  float* dx = a.at<float>(4, N * d); float* dw = a.at<float>(5, d);
  if (!a.ok) return;
  std::fill(dw, dw + d, 0.f);
  for (int64_t r = 0; r < N; r++) {
    const float *g = dy + r * d, *xr = x + r * d; float s = rstd[r];
    float dot = reduce16(d, 0.f, [&](int64_t j) { return g[j] * w[j] * xr[j]; }, plus);
    float c = dot * s * s * s / d;
    for (int64_t j = 0; j < d; j++) { dx[r * d + j] = g[j] * w[j] * s - xr[j] * c; dw[j] += g[j] * xr[j] * s; }
  }
}

// y = silu(gate) * up
void swiGlu(Args& a) {
  int64_t n = a.i(3);
  const float* g = a.at<float>(0, n); const float* u = a.at<float>(1, n); float* y = a.at<float>(2, n);
  if (!a.ok) return;
  for (int64_t k = 0; k < n; k++) y[k] = g[k] * sigmoid(g[k]) * u[k];
}
void swiGluGrad(Args& a) {
  int64_t n = a.i(5);
  const float* dy = a.at<float>(0, n); const float* g = a.at<float>(1, n); const float* u = a.at<float>(2, n);
  float* dg = a.at<float>(3, n); float* du = a.at<float>(4, n);
  if (!a.ok) return;
  for (int64_t k = 0; k < n; k++) {
    float s = sigmoid(g[k]);
    dg[k] = dy[k] * u[k] * s * (1.f + g[k] * (1.f - s)); du[k] = dy[k] * g[k] * s;
  }
}

// One position's head vector for rope, below; restrict (out is a fresh tensor) lets GCC vectorize it.
inline void ropeRow(const float* __restrict__ xi, const float* __restrict__ c, const float* __restrict__ s,
                    float* __restrict__ o, int64_t half, float sign) {
  for (int64_t j = 0; j < half; j++) {
    o[j] = xi[j] * c[j] - sign * xi[j + half] * s[j];
    o[j + half] = xi[j + half] * c[j + half] + sign * xi[j] * s[j + half];
  }
}
// x [outer, T, inner, hd] rotated by position t: out = x cos + rotate_half(x) sin, with
// rotate_half([x1, x2]) = [-x2, x1]; sign -1 applies the transpose (the backward pass). Heads
// first ([B, H, T, hd]: outer B*H, inner 1) or heads inner ([B, T, H, hd]: outer B, inner H).
void rope(Args& a) {
  int64_t outer = a.i(4), T = a.i(5), inner = a.i(6), hd = a.i(7); float sign = a.f(8); int64_t half = hd / 2;
  int64_t n = outer * T * inner * hd;
  const float* x = a.at<float>(0, n); const float* cs = a.at<float>(1, T * hd); const float* sn = a.at<float>(2, T * hd); float* out = a.at<float>(3, n);
  if (!a.ok) return;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t t = 0; t < T; t++)
      for (int64_t h = 0; h < inner; h++) {
        int64_t at = ((o * T + t) * inner + h) * hd;
        ropeRow(x + at, cs + t * hd, sn + t * hd, out + at, half, sign);
      }
}

// p = softmax(scale * s + keyMask) over keys, rows [B, H, Tq] of Tk keys; with causal, query i
// sees keys up to Tk - Tq + i (the rest get probability 0). keyMask [B, Tk] is additive.
void attentionSoftmax(Args& a) {
  int64_t B = a.i(3), H = a.i(4), Tq = a.i(5), Tk = a.i(6); float scale = a.f(7); bool causal = a.v[8] != 0;
  const float* s = a.at<float>(0, B * H * Tq * Tk); const float* mask = a.at<float>(1, B * Tk, true); float* p = a.at<float>(2, B * H * Tq * Tk);
  if (!a.ok) return;
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t q = 0; q < Tq; q++) {
        int64_t row = ((b * H + h) * Tq + q) * Tk, lim = causal ? Tk - Tq + q + 1 : Tk;
        const float* m = mask ? mask + b * Tk : nullptr; float* pr = p + row;
        for (int64_t j = 0; j < lim; j++) pr[j] = s[row + j] * scale + (m ? m[j] : 0.f);
        softmaxRow(pr, lim, Tk);
      }
}
// ds = scale * p * (dp - sum_j p dp) over rows of Tk
void attentionSoftmaxGrad(Args& a) {
  int64_t rows = a.i(3), Tk = a.i(4); float scale = a.f(5);
  const float* dp = a.at<float>(0, rows * Tk); const float* p = a.at<float>(1, rows * Tk); float* ds = a.at<float>(2, rows * Tk);
  if (!a.ok) return;
  for (int64_t r = 0; r < rows; r++) softmaxGradRow(dp + r * Tk, p + r * Tk, ds + r * Tk, Tk, scale);
}

// loss = mean over n rows of logsumexp(logits) - logits[target]; lse [n] kept for the backward pass
void crossEntropy(Args& a) {
  int64_t n = a.i(4), V = a.i(5);
  const float* logits = a.at<float>(0, n * V); const int32_t* target = a.at<int32_t>(1, n); float* loss = a.at<float>(2, 1); float* lse = a.at<float>(3, n);
  if (!a.ok) return;
  thread_local std::vector<float> buffer; float* e = scratch(buffer, V);
  double total = 0.0;
  for (int64_t r = 0; r < n; r++) {
    const float* l = logits + r * V; float mx = maxOf(l, V);
    for (int64_t j = 0; j < V; j++) e[j] = fastExp(l[j] - mx);
    lse[r] = mx + std::log(sumOf(e, V));
    total += lse[r] - l[target[r]];
  }
  loss[0] = (float)(total / n);
}
// dlogits = dloss / n * (softmax(logits) - onehot(target))
void crossEntropyGrad(Args& a) {
  int64_t n = a.i(5), V = a.i(6);
  const float* dloss = a.at<float>(0, 1); const float* logits = a.at<float>(1, n * V); const int32_t* target = a.at<int32_t>(2, n); const float* lse = a.at<float>(3, n);
  float* dl = a.at<float>(4, n * V);
  if (!a.ok) return;
  float g = dloss[0] / n;
  for (int64_t r = 0; r < n; r++) {
    const float* l = logits + r * V; float* o = dl + r * V; float m = lse[r];
    for (int64_t j = 0; j < V; j++) o[j] = g * fastExp(l[j] - m);
    o[target[r]] -= g;
  }
}

// out[i] = x[index[i]] over rows of d
void gatherRows(Args& a) {
  int64_t rows = a.i(3), n = a.i(4), d = a.i(5);
  const float* x = a.at<float>(0, rows * d); const int32_t* index = a.at<int32_t>(1, n); float* out = a.at<float>(2, n * d);
  if (!a.ok) return;
  for (int64_t k = 0; k < n; k++) {
    if (index[k] < 0 || index[k] >= rows) { napi_throw_range_error(a.env, nullptr, "gatherRows: index out of range"); return; }
    std::memcpy(out + k * d, x + (int64_t)index[k] * d, d * sizeof(float));
  }
}
// out [rows, d] = 0, then out[index[i]] += dy[i]
void scatterAddRows(Args& a) {
  int64_t rows = a.i(3), n = a.i(4), d = a.i(5);
  const float* dy = a.at<float>(0, n * d); const int32_t* index = a.at<int32_t>(1, n); float* out = a.at<float>(2, rows * d);
  if (!a.ok) return;
  std::fill(out, out + rows * d, 0.f);
  for (int64_t k = 0; k < n; k++) {
    if (index[k] < 0 || index[k] >= rows) { napi_throw_range_error(a.env, nullptr, "scatterAddRows: index out of range"); return; }
    float* o = out + (int64_t)index[k] * d; const float* g = dy + k * d;
    for (int64_t j = 0; j < d; j++) o[j] += g[j];
  }
}

// out [batch, innerA + innerB] = [a [batch, innerA], b [batch, innerB]]: a concat of two
// float32 tensors, which the sampling loop's KV cache does at every step (tfjs wasm does it in JS).
void concat2(Args& a) {
  int64_t batch = a.i(3), innerA = a.i(4), innerB = a.i(5);
  const float* x = a.at<float>(0, batch * innerA); const float* y = a.at<float>(1, batch * innerB);
  float* out = a.at<float>(2, batch * (innerA + innerB));
  if (!a.ok) return;
  for (int64_t r = 0; r < batch; r++) {
    float* o = out + r * (innerA + innerB);
    std::memcpy(o, x + r * innerA, innerA * sizeof(float));
    std::memcpy(o + innerA, y + r * innerB, innerB * sizeof(float));
  }
}

// dx = dy * step(h) over n floats: a ReLU's backward (MNIST's hand-written backward), one pass
// where wasm runs Step then Multiply. Multiplying by 1 or 0 keeps wasm's result to the bit (-0 too).
inline void reluGradRow(const float* __restrict__ dy, const float* __restrict__ h, float* __restrict__ dx, int64_t n) {
  for (int64_t j = 0; j < n; j++) dx[j] = dy[j] * (h[j] > 0 ? 1.f : 0.f);
}
void reluGrad(Args& a) {
  int64_t n = a.i(3);
  const float* dy = a.at<float>(0, n); const float* h = a.at<float>(1, n); float* dx = a.at<float>(2, n);
  if (a.ok) reluGradRow(dy, h, dx, n);
}

// out = x + y over n floats of the same shape (residuals and gradient sums; tfjs wasm's Add
// goes through its broadcasting path even then).
void add2(Args& a) {
  int64_t n = a.i(3);
  const float* x = a.at<float>(0, n); const float* y = a.at<float>(1, n); float* out = a.at<float>(2, n);
  if (!a.ok) return;
  for (int64_t j = 0; j < n; j++) out[j] = x[j] + y[j];
}
// out [A, C, B, D] = x [A, B, C, D] transposed by [0, 2, 1, 3]: attention heads in and out.
void transpose0213(Args& a) {
  int64_t A = a.i(2), B = a.i(3), C = a.i(4), D = a.i(5);
  const float* x = a.at<float>(0, A * B * C * D); float* out = a.at<float>(1, A * B * C * D);
  if (!a.ok) return;
  for (int64_t i = 0; i < A; i++)
    for (int64_t j = 0; j < B; j++)
      for (int64_t k = 0; k < C; k++)
        std::memcpy(out + ((i * C + k) * B + j) * D, x + ((i * B + j) * C + k) * D, D * sizeof(float));
}

struct Kernel { const char* name; size_t args; void (*run)(Args&); };
const Kernel KERNELS[] = {
  {"rmsNorm", 7, rmsNorm}, {"rmsNormGrad", 8, rmsNormGrad}, {"swiGlu", 4, swiGlu}, {"swiGluGrad", 6, swiGluGrad},
  {"rope", 9, rope}, {"attentionSoftmax", 9, attentionSoftmax}, {"attentionSoftmaxGrad", 6, attentionSoftmaxGrad},
  {"crossEntropy", 6, crossEntropy}, {"crossEntropyGrad", 7, crossEntropyGrad}, {"gatherRows", 6, gatherRows}, {"scatterAddRows", 6, scatterAddRows},
  {"concat2", 6, concat2}, {"add2", 4, add2}, {"reluGrad", 4, reluGrad}, {"transpose0213", 6, transpose0213},
  {"causalAttention", 10, causalAttention}, {"causalAttentionGrad", 13, causalAttentionGrad},
};

napi_value callKernel(napi_env env, napi_callback_info info) {
  napi_value argv[2]; char* base; size_t bytes; void* data;
  const Kernel* k;
  size_t argc = 2; napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  k = static_cast<const Kernel*>(data);
  if (!heapCall(env, info, k->name, 2, argv, &base, &bytes)) return nullptr;
  napi_typedarray_type type; size_t len; void* values; napi_value ab; size_t boff;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &values, &ab, &boff) != napi_ok || type != napi_float64_array || len != k->args) {
    char msg[96]; std::snprintf(msg, sizeof msg, "%s: args must be a Float64Array(%zu)", k->name, k->args);
    napi_throw_type_error(env, nullptr, msg); return nullptr;
  }
  Args a{env, k->name, base, bytes, static_cast<const double*>(values), len};
  k->run(a);
  return nullptr;
}

} // namespace

void registerFusedKernels(napi_env env, napi_value exports) {
  for (const Kernel& k : KERNELS) exportFunction(env, exports, k.name, callKernel, const_cast<Kernel*>(&k));
}
