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

// Sets exports[name] to a native function.
inline void exportFunction(napi_env env, napi_value exports, const char* name, napi_callback call, void* data = nullptr) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, call, data, &fn);
  napi_set_named_property(env, exports, name, fn);
}

void registerFusedKernels(napi_env env, napi_value exports);
napi_value DrawTokens(napi_env env, napi_callback_info info); // sample.cc
napi_value PeakGflops(napi_env env, napi_callback_info info); // peak.cc
