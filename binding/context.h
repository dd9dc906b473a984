// The environment's one lws client context, created on first use, and the
// client vhosts that carry per-configuration settings (extension offer, TLS
// trust and identity, proxy), one per distinct configuration, shared by the
// connections that use it. A vhost costs ~6 KiB, and for wss ~20 ms of
// setup; one that no connection uses is kept for reuse, but only the
// kIdleVhosts most recently used: a service with per-session credentials
// would otherwise keep one per session for the life of the process.
#pragma once

#include <libwebsockets.h>

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lwsnode {

class EventLoop;

struct VhostConfig {
  std::string deflate_offer;  // Sec-WebSocket-Extensions offer; empty: none
  // Trusted CA certificates (DER) added to the store; with replace_system_ca
  // they are the whole store, instead of the system's.
  std::vector<std::string> ca_certificates;
  bool replace_system_ca = false;
  // Load OpenSSL's default trust paths: parsing the system bundle costs
  // ~10 ms per distinct TLS context, wasted for ws:// or with tls_ca.
  bool system_ca = true;
  std::string client_certificate, client_key;  // DER; empty: none
  // "user:pass@address:port" with a numeric address; empty: none.
  std::string http_proxy, socks_proxy;
};

class Context {
 public:
  Context(EventLoop& loop, const lws_protocols* protocols);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Vhosts no connection uses that are kept for reuse, least recently used
  // freed first (docs/API.md, TLS).
  static constexpr size_t kIdleVhosts = 16;

  // The vhost for configuration `key`, in use until Release(key); `describe`
  // is asked for the whole configuration only when it is new. Creates the
  // context as needed. Null on failure, with the reason in error(). Must not
  // be called from inside an lws callback (it may free idle vhosts).
  lws_vhost* Acquire(const std::string& key, const std::function<VhostConfig()>& describe);
  // One connection of Acquire(key) no longer uses the vhost.
  void Release(const std::string& key);
  lws_context* get() const { return context_; }
  // Vhosts lws holds: those in the table and those lws is still freeing.
  size_t vhost_count() const { return vhosts_.size() + retiring_.size(); }
  const std::string& error() const { return error_; }

  // Closes every connection (their callbacks run, synchronously) and frees
  // the context. Must not be called from inside an lws callback.
  void Destroy();

 private:
  struct VhostEntry;
  bool EnsureContext();
  VhostEntry* CreateVhost(const std::string& key, const VhostConfig& config);
  void FreeIdleVhosts(size_t keep);
  static void OnVhostFinalized(lws_vhost* vhost, void* arg);

  EventLoop& loop_;
  const lws_protocols* protocols_;
  lws_context* context_ = nullptr;
  std::map<std::string, std::unique_ptr<VhostEntry>> vhosts_;
  // Keys of the vhosts no connection uses, least recently used first.
  std::list<std::string> idle_;
  // Vhosts handed to lws_vhost_destroy: lws frees them once their last
  // connection is gone and reads their name and extensions until then.
  std::map<lws_vhost*, std::unique_ptr<VhostEntry>> retiring_;
  uint64_t vhosts_created_ = 0;
  bool destroying_ = false;
  std::string error_;
};

}  // namespace lwsnode
