// Calls from JS into the addon: the first argument is the wasm heap (one ArrayBuffer) and
// operands are byte offsets into it, checked against its size before any kernel runs.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

// The call's `count` arguments, the first being the wasm heap; false (with a JS error thrown) when malformed.
inline bool heapCall(napi_env env, napi_callback_info info, const char* name, size_t count, napi_value* argv, char** heap, size_t* bytes) {
  size_t argc = count;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char msg[96];
  if (argc != count) { std::snprintf(msg, sizeof msg, "%s: %zu arguments expected", name, count); napi_throw_error(env, nullptr, msg); return false; }
  void* data;
  if (napi_get_arraybuffer_info(env, argv[0], &data, bytes) != napi_ok) { std::snprintf(msg, sizeof msg, "%s: heap must be an ArrayBuffer", name); napi_throw_type_error(env, nullptr, msg); return false; }
  *heap = static_cast<char*>(data);
  return true;
}

// A thread's scratch buffer of at least n floats. It only grows: vector::resize would zero
// the regrown tail every time calls alternate between a small and a large size.
inline float* scratch(std::vector<float>& buffer, size_t n) {
  if (buffer.size() < n) buffer.resize(n);
  return buffer.data();
}

void registerFusedKernels(napi_env env, napi_value exports);
void registerSampling(napi_env env, napi_value exports);
void registerPeak(napi_env env, napi_value exports);
