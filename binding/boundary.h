// The exception boundary between C and this addon.
//
// The addon is built with C++ exceptions (NAPI_CPP_EXCEPTIONS): a
// node-addon-api call that fails throws Napi::Error, and std::bad_alloc may
// come from anywhere. Entered from JavaScript, node-addon-api's wrappers
// turn either into a JavaScript exception. Entered from C -- a libuv
// callback, an lws callback (protocol, event library, log) or Node's
// cleanup hook -- nothing would: the exception unwinds into C frames,
// std::terminate() runs, and the whole process aborts, every thread with it.
//
// Node-API calls fail without any bug of ours: in an environment that is
// terminating (worker.terminate(), process.exit() in a worker) every call
// that could run JavaScript reports napi_pending_exception (or, from
// Node-API 10, napi_cannot_run_js). So every function that C calls runs
// its body through Boundary(), and no exception gets past it. Where the
// addon calls JavaScript (JsCall, EnvState::DeliverPending) statuses are
// checked and a terminating environment stops further calls quietly; this
// is the backstop for whatever is left.
#pragma once

#include <utility>

namespace lwsnode {

// Runs body(); an exception it throws ends here. False if one did.
template <typename Body>
bool Boundary(Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
    return true;
  } catch (...) {
    return false;
  }
}

// For a C callback that returns a value: body()'s, or `failed` if it threw.
template <typename Result, typename Body>
Result Boundary(Result failed, Body&& body) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (...) {
    return failed;
  }
}

}  // namespace lwsnode
