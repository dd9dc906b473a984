// The environment's one lws client context, created on first use, and the
// client vhosts that carry per-configuration settings (extension offer, TLS
// trust and identity, proxy), one per distinct configuration, shared by the
// connections that use it.
#pragma once

#include <libwebsockets.h>

#include <functional>
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

  // The vhost for configuration `key`; `describe` is asked for the whole
  // configuration only when it is new. Creates the context as needed. Null
  // on failure, with the reason in error().
  lws_vhost* Vhost(const std::string& key, const std::function<VhostConfig()>& describe);
  lws_context* get() const { return context_; }
  const std::string& error() const { return error_; }

  // Closes every connection (their callbacks run, synchronously) and frees
  // the context. Must not be called from inside an lws callback.
  void Destroy();

 private:
  struct VhostEntry;
  bool EnsureContext();
  lws_vhost* CreateVhost(const std::string& key, const VhostConfig& config);

  EventLoop& loop_;
  const lws_protocols* protocols_;
  lws_context* context_ = nullptr;
  std::map<std::string, std::unique_ptr<VhostEntry>> vhosts_;
  std::string error_;
};

}  // namespace lwsnode
