// Drawing the next token of every row of a sampling batch: drawToken's arithmetic (in
// src/model/sample.ts; double precision) with a vectorized exp and lane sums, where drawToken's
// per-element JS was half of a sampling batch's time. Temperature > 0, no nucleus truncation.
#include "heap.h"
#include <cmath>

namespace {

// e^x for x <= 0 in double, as arithmetic that vectorizes: x = n ln2 + r with |r| <= ln2/2
// (n read off a shifted sum, ln2 split in two so n ln2 is exact), e^r by its Taylor series to
// r^13 (truncation < 1e-17), then 2^n from the exponent bits. Within 2 ulp of libm's exp;
// below -708 (where e^x is not a normal double) it gives 0.
inline double expNonPositive(double x) {
  const double shifter = 6755399441055744.0; // 1.5 * 2^52: adding it rounds to an integer
  double clamped = x < -708 ? -708 : x;
  double k = clamped * 1.4426950408889634 + shifter;
  double n = k - shifter;
  double r = clamped - n * 0.6931471803691238 - n * 1.9082149292705877e-10;
  double p = 1.0 / 6227020800;
  const double inverseFactorials[] = {1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320,
                                      1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1};
  for (double c : inverseFactorials) p = p * r + c;
  int64_t bits; std::memcpy(&bits, &k, 8);
  bits = (bits + 1023) << 52; // the low bits of k hold n
  double scale; std::memcpy(&scale, &bits, 8);
  return x < -708 ? 0 : p * scale;
}

// A sum in 8 independent lanes, so that it vectorizes (the order is fixed, so the sum is too).
inline double sumOf(const double* x, size_t n) {
  double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0}; size_t i = 0;
  for (; i + 8 <= n; i += 8) for (int l = 0; l < 8; l++) lanes[l] += x[i + l];
  double total = 0;
  for (; i < n; i++) total += x[i];
  for (double lane : lanes) total += lane;
  return total;
}

template <class T> bool typed(napi_env env, napi_value v, napi_typedarray_type want, T** data, size_t* len, const char* what) {
  napi_typedarray_type type; void* values; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &values, &ab, &off) != napi_ok || type != want) {
    char msg[96]; std::snprintf(msg, sizeof msg, "drawTokens: %s has the wrong type", what);
    napi_throw_type_error(env, nullptr, msg); return false;
  }
  *data = static_cast<T*>(values);
  return true;
}

} // namespace

// drawTokens(logits Float32Array [B*V], uniforms Float64Array [B], temperature, ids Int32Array [B],
// logprobs Float64Array [B]). Row b draws with uniforms[b] in [0, 1); a NaN uniform skips the row.
// logprobs are at temperature 1, as drawToken reports them.
napi_value DrawTokens(napi_env env, napi_callback_info info) {
  size_t argc = 5; napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 5) { napi_throw_error(env, nullptr, "drawTokens: 5 arguments expected"); return nullptr; }
  float* logits; double* uniforms; int32_t* ids; double* logprobs; size_t n, B, nIds, nLp; double temperature;
  if (!typed(env, argv[0], napi_float32_array, &logits, &n, "logits") ||
      !typed(env, argv[1], napi_float64_array, &uniforms, &B, "uniforms") ||
      !typed(env, argv[3], napi_int32_array, &ids, &nIds, "ids") ||
      !typed(env, argv[4], napi_float64_array, &logprobs, &nLp, "logprobs")) return nullptr;
  if (napi_get_value_double(env, argv[2], &temperature) != napi_ok || !(temperature > 0)) {
    napi_throw_range_error(env, nullptr, "drawTokens: temperature must be a number > 0"); return nullptr;
  }
  if (B == 0 || n % B != 0 || nIds != B || nLp != B) {
    napi_throw_range_error(env, nullptr, "drawTokens: logits must be B rows and ids, logprobs B long"); return nullptr;
  }
  const size_t V = n / B;
  thread_local std::vector<double> weights;
  if (weights.size() < V) weights.resize(V);
  double* p = weights.data();
  for (size_t b = 0; b < B; b++) {
    if (std::isnan(uniforms[b])) continue;
    const float* row = logits + b * V;
    float max = -INFINITY;
    for (size_t i = 0; i < V; i++) max = row[i] > max ? row[i] : max;
    const double top = max, inverseT = 1 / temperature;
    double z1 = 0;
    if (temperature != 1) {
      for (size_t i = 0; i < V; i++) p[i] = expNonPositive((double)row[i] - top);
      z1 = sumOf(p, V);
    }
    for (size_t i = 0; i < V; i++) p[i] = expNonPositive(((double)row[i] - top) * inverseT);
    const double z = sumOf(p, V);
    if (temperature == 1) z1 = z;
    double r = uniforms[b] * z;
    size_t id = V - 1;
    for (size_t i = 0; i < V; i++) { r -= p[i]; if (r < 0) { id = i; break; } }
    ids[b] = (int32_t)id;
    logprobs[b] = (double)row[id] - top - std::log(z1);
  }
  return nullptr;
}
