// Module entry: one Addon per Node environment (node-addon-api's instance
// data), owning that environment's EnvState until its cleanup hook ran.
#pragma once

#include <napi.h>

namespace lwsnode {

class EnvState;

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);

  static EnvState* State(Napi::Env env) { return env.GetInstanceData<Addon>()->state_; }

 private:
  static void OnEnvCleanup(napi_async_cleanup_hook_handle handle, void* arg);

  // Freed by the cleanup hook once libuv has closed its handles, which may
  // be after this Addon is gone.
  EnvState* state_;
};

// Exported constants, read from lws's headers at build time.
Napi::Object Constants(Napi::Env env);
// The names and numbers of vocabulary.h's enums, for lib/native.ts.
Napi::Object Vocabulary(Napi::Env env);
// setLogLevel(mask): lws's process-wide log level.
Napi::Value SetLogLevel(const Napi::CallbackInfo& info);
// vhostCount(): the environment's client vhosts, for tests.
Napi::Value VhostCount(const Napi::CallbackInfo& info);

}  // namespace lwsnode
