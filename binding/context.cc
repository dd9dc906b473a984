#include "context.h"

#include <mutex>

#include "event_loop.h"

namespace lwsnode {

namespace {

// lws's OpenSSL setup and teardown touch process-wide state without a lock,
// so contexts of different worker threads are created and destroyed one at
// a time.
std::mutex& ContextLifecycleMutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

struct Context::VhostEntry {
  std::string name;
  std::string offer;
  lws_extension extensions[2];
  lws_vhost* vhost = nullptr;
};

Context::Context(EventLoop& loop, const lws_protocols* protocols)
    : loop_(loop), protocols_(protocols) {}

Context::~Context() { Destroy(); }

bool Context::EnsureContext() {
  if (context_) return true;
  void* foreign_loops[1] = {&loop_};
  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                 LWS_SERVER_OPTION_VALIDATE_UTF8;
  info.event_lib_custom = EventLoop::Plugin();
  info.foreign_loops = foreign_loops;
  info.protocols = protocols_;
  {
    std::lock_guard<std::mutex> lock(ContextLifecycleMutex());
    context_ = lws_create_context(&info);
  }
  if (!context_) {
    error_ = "lws_create_context failed";
    return false;
  }
  loop_.Attach(context_);
  return true;
}

lws_vhost* Context::Vhost(const VhostConfig& config) {
  auto found = vhosts_.find(config.key);
  if (found != vhosts_.end()) return found->second->vhost;
  if (!EnsureContext()) return nullptr;

  auto entry = std::make_unique<VhostEntry>();
  entry->name = "client-" + std::to_string(vhosts_.size());
  entry->offer = config.deflate_offer;
  entry->extensions[0] = {"permessage-deflate", lws_extension_callback_pm_deflate,
                          entry->offer.c_str()};
  entry->extensions[1] = {nullptr, nullptr, nullptr};

  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.vhost_name = entry->name.c_str();
  info.protocols = protocols_;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  if (!entry->offer.empty()) info.extensions = entry->extensions;
  {
    std::lock_guard<std::mutex> lock(ContextLifecycleMutex());
    entry->vhost = lws_create_vhost(context_, &info);
  }
  if (!entry->vhost) {
    error_ = "lws_create_vhost failed";
    return nullptr;
  }
  lws_vhost* vhost = entry->vhost;
  vhosts_.emplace(config.key, std::move(entry));
  return vhost;
}

void Context::Destroy() {
  if (!context_) return;
  lws_context* context = context_;
  context_ = nullptr;
  {
    std::lock_guard<std::mutex> lock(ContextLifecycleMutex());
    lws_context_destroy(context);
  }
  loop_.Attach(nullptr);
  vhosts_.clear();
}

}  // namespace lwsnode
