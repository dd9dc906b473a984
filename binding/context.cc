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

// lws reads the http_proxy and socks_proxy environment variables when a vhost
// is created without a proxy, and would then resolve the proxy's name itself
// on the loop thread. A proxy with port 0 is "none": connections go where
// the `proxy` option says, and nowhere else.
constexpr const char kNoProxy[] = "0.0.0.0:0";

// lws limits each step of an opening itself: 20 s to connect, 15 s for each
// of the proxy, TLS and handshake steps. connect() has a deadline of its own
// for the whole opening (connect_timeout, up to 3600 s, lib/connect.ts),
// which the first of lws's limits would otherwise cut short. Set past it,
// lws's limits are a backstop only. They are then also all the same
// distance ahead, so lws's sorted timer list takes each new one at its end
// in one step instead of walking past those of every connection opening.
constexpr unsigned kOpeningBackstopSecs = 3600 + 60;

}  // namespace

struct Context::VhostEntry {
  std::string name;
  std::string offer;
  lws_extension extensions[2];
  lws_vhost* vhost = nullptr;
  size_t users = 0;
  std::list<std::string>::iterator idle;  // valid while users == 0
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
  // The one buffer each read lands in (per context, not per connection).
  info.pt_serv_buf_size = 256 * 1024;
  info.timeout_secs = kOpeningBackstopSecs;
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

lws_vhost* Context::Acquire(const std::string& key, const std::function<VhostConfig()>& describe) {
  VhostEntry* entry;
  auto found = vhosts_.find(key);
  if (found != vhosts_.end()) {
    entry = found->second.get();
    if (entry->users == 0) idle_.erase(entry->idle);
  } else {
    if (!EnsureContext()) return nullptr;
    // Room for the new one first. Freed here, from JavaScript, never from
    // inside lws: Release runs in lws callbacks.
    FreeIdleVhosts(kIdleVhosts - 1);
    entry = CreateVhost(key, describe());
    if (!entry) return nullptr;
  }
  entry->users++;
  return entry->vhost;
}

void Context::Release(const std::string& key) {
  auto found = vhosts_.find(key);
  if (found == vhosts_.end() || found->second->users == 0) return;
  VhostEntry& entry = *found->second;
  if (--entry.users == 0) entry.idle = idle_.insert(idle_.end(), key);
}

void Context::FreeIdleVhosts(size_t keep) {
  while (idle_.size() > keep) {
    auto found = vhosts_.find(idle_.front());
    idle_.pop_front();
    std::unique_ptr<VhostEntry> entry = std::move(found->second);
    vhosts_.erase(found);
    lws_vhost* vhost = entry->vhost;
    // lws may still be closing a connection of this vhost (its last one
    // ended a moment ago): it then frees the vhost after that one, and
    // OnVhostFinalized lets the entry go.
    retiring_.emplace(vhost, std::move(entry));
    std::lock_guard<std::mutex> lock(ContextLifecycleMutex());
    lws_vhost_destroy(vhost);
  }
}

// Called by lws (C) as it frees a vhost, after its last connection.
void Context::OnVhostFinalized(lws_vhost* vhost, void* arg) {
  auto* self = static_cast<Context*>(arg);
  if (!self->destroying_) self->retiring_.erase(vhost);
}

Context::VhostEntry* Context::CreateVhost(const std::string& key, const VhostConfig& config) {
  auto entry = std::make_unique<VhostEntry>();
  // Unique among the context's vhosts, those being freed included.
  entry->name = "client-" + std::to_string(vhosts_created_++);
  entry->offer = config.deflate_offer;
  entry->extensions[0] = {"permessage-deflate", lws_extension_callback_pm_deflate,
                          entry->offer.c_str()};
  entry->extensions[1] = {nullptr, nullptr, nullptr};

  lws_context_creation_info info{};
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.vhost_name = entry->name.c_str();
  info.connect_timeout_secs = kOpeningBackstopSecs;
  info.protocols = protocols_;
  info.finalize = OnVhostFinalized;
  info.finalize_arg = this;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  if (!config.system_ca) info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
  if (!entry->offer.empty()) info.extensions = entry->extensions;
  // lws makes the CA certificate in client_ssl_ca_mem the whole trust store
  // (reading only the first of the DER certificates concatenated there) and
  // shares one SSL_CTX between vhosts whose ca/cert memory hashes the same:
  // handing it the whole bundle keeps each bundle's store its own.
  std::string ca_bundle;
  size_t first_added_ca = 0;
  if (config.replace_system_ca && !config.ca_certificates.empty()) {
    for (const std::string& der : config.ca_certificates) ca_bundle += der;
    info.client_ssl_ca_mem = ca_bundle.data();
    info.client_ssl_ca_mem_len = static_cast<unsigned int>(ca_bundle.size());
    first_added_ca = 1;
  }
  if (!config.client_certificate.empty()) {
    info.client_ssl_cert_mem = config.client_certificate.data();
    info.client_ssl_cert_mem_len = static_cast<unsigned int>(config.client_certificate.size());
    info.client_ssl_key_mem = config.client_key.data();
    info.client_ssl_key_mem_len = static_cast<unsigned int>(config.client_key.size());
  }
  // The proxy is set after the vhost exists, where lws says whether it took
  // it: lws_create_vhost ignores a proxy that lws_set_proxy/lws_set_socks
  // refuse (credentials too long for their buffers), and its connections
  // would then go straight to the target.
  info.http_proxy_address = kNoProxy;
  info.socks_proxy_address = kNoProxy;
  {
    std::lock_guard<std::mutex> lock(ContextLifecycleMutex());
    entry->vhost = lws_create_vhost(context_, &info);
  }
  if (!entry->vhost) {
    error_ = "lws could not set up the client (lws_create_vhost failed; see the lws log for the TLS material it rejected)";
    return nullptr;
  }
  const char* refused = nullptr;
  if (!config.http_proxy.empty() && lws_set_proxy(entry->vhost, config.http_proxy.c_str()))
    refused = "lws refused the HTTP proxy (lws_set_proxy failed: credentials too long?)";
  if (!config.socks_proxy.empty() && lws_set_socks(entry->vhost, config.socks_proxy.c_str()))
    refused = "lws refused the SOCKS5 proxy (lws_set_socks failed: credentials too long?)";
  if (refused) {
    std::lock_guard<std::mutex> lock(ContextLifecycleMutex());
    lws_vhost_destroy(entry->vhost);
    error_ = refused;
    return nullptr;
  }
  for (size_t i = first_added_ca; i < config.ca_certificates.size(); i++) {
    const std::string& der = config.ca_certificates[i];
    if (lws_tls_client_vhost_extra_cert_mem(entry->vhost, reinterpret_cast<const uint8_t*>(der.data()), der.size())) {
      std::lock_guard<std::mutex> lock(ContextLifecycleMutex());
      lws_vhost_destroy(entry->vhost);
      error_ = "lws could not add CA certificate " + std::to_string(i) + " to the trust store";
      return nullptr;
    }
  }
  VhostEntry* created = entry.get();
  vhosts_.emplace(key, std::move(entry));
  return created;
}

void Context::Destroy() {
  if (!context_) return;
  lws_context* context = context_;
  context_ = nullptr;
  // lws finalizes every vhost as it goes: the tables are cleared after.
  destroying_ = true;
  {
    std::lock_guard<std::mutex> lock(ContextLifecycleMutex());
    lws_context_destroy(context);
  }
  loop_.Attach(nullptr);
  idle_.clear();
  vhosts_.clear();
  retiring_.clear();
  destroying_ = false;
}

}  // namespace lwsnode
