// The one way native code calls JavaScript: from a libuv callback, never
// from inside lws, through napi_make_callback so that promise jobs and
// process.nextTick run afterwards, as for any Node I/O callback.
#pragma once

#include <node_api.h>

namespace lwsnode {

class JsCall {
 public:
  explicit JsCall(napi_env env);
  JsCall(const JsCall&) = delete;
  JsCall& operator=(const JsCall&) = delete;

  // Releases the async context; no calls after this.
  void Dispose();

  // Calls fn.apply(recv, argv). An exception that escapes is reported as an
  // uncaught exception, unless the environment is shutting down (a worker
  // being terminated or calling process.exit()), where it is dropped.
  void Call(napi_value recv, napi_value fn, size_t argc, const napi_value* argv);

 private:
  napi_env env_;
  napi_async_context async_context_ = nullptr;
};

}  // namespace lwsnode
