// The fp32 peak of one core, for the benchmarks' "beside the peak": independent chains of
// vector multiply-adds held in registers (16 chains of 16 lanes, enough to cover the FMA
// latency on two pipes), timed. Not used by any model.
#include "heap.h"
#include <chrono>

typedef float v16 __attribute__((vector_size(64)));

// peakGflops(iterations): runs `iterations` rounds over the 16 chains and returns GFLOPS.
napi_value PeakGflops(napi_env env, napi_callback_info info) {
  size_t argc = 1; napi_value argv[1]; double iterations = 0;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 1 || napi_get_value_double(env, argv[0], &iterations) != napi_ok || !(iterations >= 1)) {
    napi_throw_type_error(env, nullptr, "peakGflops: an iteration count >= 1 expected"); return nullptr;
  }
  const int chains = 16;
  v16 acc[chains];
  for (int c = 0; c < chains; c++) for (int l = 0; l < 16; l++) acc[c][l] = 0.001f * (c + l);
  v16 m, a;
  for (int l = 0; l < 16; l++) { m[l] = 0.999999f; a[l] = 1e-7f; }
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < (int64_t)iterations; i++)
    for (int c = 0; c < chains; c++) acc[c] = acc[c] * m + a;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  float sink = 0;
  for (int c = 0; c < chains; c++) for (int l = 0; l < 16; l++) sink += acc[c][l];
  napi_value out;
  // 2 flops per lane per multiply-add; the sink keeps the loop from being optimised away
  napi_create_double(env, (double)iterations * chains * 16 * 2 / seconds / 1e9 + (sink == 12345.f ? 1e-9 : 0), &out);
  return out;
}
