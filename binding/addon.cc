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
  // lws logs errors, warnings and notices to stderr unless told otherwise,
  // and it warns of what the caller learns anyway as a rejection (a 404, a
  // refused certificate). A library stays quiet: its global level starts
  // at none. set_log_level() sets it, process-wide, and its lines then go
  // to stderr escaped (log_text.h), never with a server's bytes as they
  // came. A Logger, or NODE_DEBUG=libwebsockets (lib/debug_log.ts), hears a
  // connection's lines without it. Once per process: a worker loading the
  // addon later must not undo the caller's set_log_level().
  static std::once_flag quiet_logging;
  std::call_once(quiet_logging, [] { lws_set_log_level(0, EmitLogLineToStderr); });
  InstallLwsAllocator();

  uv_loop_t* loop = nullptr;
  NAPI_THROW_IF_FAILED_VOID(env, napi_get_uv_event_loop(env, &loop));
  state_ = new EnvState(env, loop);
  NAPI_THROW_IF_FAILED_VOID(env, napi_add_async_cleanup_hook(env, OnEnvCleanup, state_, nullptr));

  DefineAddon(exports, {
                           InstanceValue("Connection", Connection::Define(env)),
                           InstanceValue("Logger", Logger::Define(env)),
                           InstanceValue("constants", Constants(env)),
                           InstanceValue("vocabulary", Vocabulary(env)),
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
