#include "js_call.h"

namespace lwsnode {

JsCall::JsCall(napi_env env) : env_(env) {
  napi_value name;
  napi_create_string_utf8(env_, "libwebsockets", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env_, nullptr, name, &async_context_);
}

void JsCall::Dispose() {
  if (!async_context_) return;
  napi_async_destroy(env_, async_context_);
  async_context_ = nullptr;
}

void JsCall::Call(napi_value recv, napi_value fn, size_t argc, const napi_value* argv) {
  if (!async_context_) return;
  // node-addon-api's MakeCallback aborts when the env is terminating, so the
  // status is checked here instead: a terminating env reports
  // napi_pending_exception without an exception actually pending.
  napi_value result;
  napi_status status = napi_make_callback(env_, async_context_, recv, fn, argc, argv, &result);
  if (status == napi_ok) return;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  if (!pending) return;
  napi_value error;
  if (napi_get_and_clear_last_exception(env_, &error) == napi_ok)
    napi_fatal_exception(env_, error);
}

}  // namespace lwsnode
