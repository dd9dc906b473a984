#include "js_call.h"

namespace lwsnode {

JsCall::JsCall(napi_env env) : env_(env) {
  napi_value name;
  if (napi_create_string_utf8(env_, "libwebsockets", NAPI_AUTO_LENGTH, &name) == napi_ok)
    napi_async_init(env_, nullptr, name, &async_context_);
}

void JsCall::Dispose() {
  if (!async_context_) return;
  napi_async_destroy(env_, async_context_);
  async_context_ = nullptr;
}

void JsCall::Call(napi_value recv, napi_value fn, size_t argc, const napi_value* argv) {
  if (!running()) return;
  // node-addon-api's MakeCallback throws when the env is terminating, so
  // the status is checked here instead.
  napi_value result;
  napi_status status = napi_make_callback(env_, async_context_, recv, fn, argc, argv, &result);
  if (status == napi_ok) return;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  napi_value error;
  if (pending) {
    // The listener threw; or it called process.exit(), or the worker was
    // terminated while it ran, and that termination is what is pending:
    // reporting it fails, which tells.
    if (napi_get_and_clear_last_exception(env_, &error) == napi_ok) Report(error);
  } else if (status == napi_cannot_run_js || status == napi_pending_exception || Terminating()) {
    // Nothing to report: a terminating environment (napi_generic_failure
    // too, when JavaScript was stopped inside the call).
    running_ = false;
  }
}

void JsCall::Failed(napi_ref error, const char* what) {
  if (!running()) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env_, &scope) != napi_ok) return;
  napi_value value = nullptr;
  bool pending = false;
  if (napi_is_exception_pending(env_, &pending) == napi_ok && pending) {
    // A failed call left its exception pending: that is the one to report.
    napi_get_and_clear_last_exception(env_, &value);
  } else if (Terminating()) {
    running_ = false;
  } else if (error) {
    napi_get_reference_value(env_, error, &value);
  } else {
    napi_value message;
    if (napi_create_string_utf8(env_, what, NAPI_AUTO_LENGTH, &message) == napi_ok)
      napi_create_error(env_, nullptr, message, &value);
  }
  if (value) Report(value);
  napi_close_handle_scope(env_, scope);
}

bool JsCall::Terminating() {
  // napi_strict_equals runs no JavaScript, but is among the calls that
  // first check whether JavaScript could run (NAPI_PREAMBLE).
  napi_value undefined;
  bool same = false;
  if (napi_get_undefined(env_, &undefined) != napi_ok) return true;
  napi_status status = napi_strict_equals(env_, undefined, undefined, &same);
  if (status == napi_cannot_run_js) return true;
  if (status != napi_pending_exception) return false;
  bool pending = false;
  return napi_is_exception_pending(env_, &pending) == napi_ok && !pending;
}

void JsCall::Report(napi_value error) {
  // Fails, without calling anything, once the environment cannot run
  // JavaScript: it is terminating after all.
  if (napi_fatal_exception(env_, error) != napi_ok) running_ = false;
}

}  // namespace lwsnode
