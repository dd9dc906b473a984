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

  // False once the environment was found terminating (a worker being
  // terminated or calling process.exit()): nothing is called after that,
  // and nothing more should be prepared for a call.
  bool running() const { return async_context_ && running_; }

  // Calls fn.apply(recv, argv), inside the caller's handle scope. An
  // exception that escapes is reported as an uncaught exception, unless the
  // environment is terminating, where it is dropped and running() turns
  // false.
  void Call(napi_value recv, napi_value fn, size_t argc, const napi_value* argv);

  // An exception ended the preparation of a call (EnvState catches it): in
  // a terminating environment, where every Node-API call that could run
  // JavaScript fails, running() turns false; otherwise it is reported as
  // an uncaught exception, as a listener's would be. `error` is the
  // JavaScript error a Napi::Error holds, or null with `what` describing a
  // C++ exception.
  void Failed(napi_ref error, const char* what);

 private:
  // napi_pending_exception with nothing pending, or napi_cannot_run_js:
  // what a Node-API call that could run JavaScript reports once the
  // environment is terminating. Needs a handle scope.
  bool Terminating();
  // process 'uncaughtException' with `error`; needs a handle scope.
  void Report(napi_value error);

  napi_env env_;
  napi_async_context async_context_ = nullptr;
  bool running_ = true;
};

}  // namespace lwsnode
