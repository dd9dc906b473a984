#include "addon.h"

#include <libwebsockets.h>
#include <uv.h>

#include <mutex>

#include "boundary.h"
#include "connection.h"
#include "env_state.h"
#include "log_text.h"
#include "logger.h"
#include "lws_allocator.h"

namespace lwsnode {

Addon::Addon(Napi::Env env, Napi::Object exports) {
  // lws logs errors, warnings and notices to stderr unless told otherwise;
  // a library should only speak up for errors and warnings.
  // set_log_level() overrides this, process-wide. Lines go to stderr
  // escaped (log_text.h), never with a server's bytes as they came.
  static std::once_flag quiet_logging;
  std::call_once(quiet_logging, [] { lws_set_log_level(LLL_ERR | LLL_WARN, EmitLogLineToStderr); });
  InstallLwsAllocator();

  uv_loop_t* loop = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_get_uv_event_loop(env, &loop));
  state_ = new EnvState(env, loop);
  NAPI_THROW_IF_FAILED_VOID(env, napi_add_async_cleanup_hook(env, OnEnvCleanup, state_, nullptr));

  DefineAddon(exports, {
                           InstanceValue("Connection", Connection::Define(env)),
                           InstanceValue("Logger", Logger::Define(env)),
                           InstanceValue("constants", Constants(env)),
                           InstanceValue("setLogLevel", Napi::Function::New(env, SetLogLevel)),
                           InstanceValue("vhostCount", Napi::Function::New(env, VhostCount)),
                       });
}

// Called by Node (C): nothing may throw past here (boundary.h). The module
// initialiser above is entered from JavaScript, where node-addon-api turns
// an exception into a JavaScript one.
void Addon::OnEnvCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  Boundary([handle, arg] {
    auto* state = static_cast<EnvState*>(arg);
    state->Teardown([state, handle] {
      delete state;
      napi_remove_async_cleanup_hook(handle);
    });
  });
}

Napi::Value VhostCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Addon::State(info.Env())->context().vhost_count()));
}

NODE_API_ADDON(Addon)

}  // namespace lwsnode
