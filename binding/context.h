// The environment's one lws client context, created on first use, and the
// client vhosts that carry per-configuration settings (extension offer; TLS
// trust later), one per distinct configuration, shared by its connections.
#pragma once

#include <libwebsockets.h>

#include <map>
#include <memory>
#include <string>

namespace lwsnode {

class EventLoop;

struct VhostConfig {
  std::string key;            // identifies the configuration; chosen by JS
  std::string deflate_offer;  // Sec-WebSocket-Extensions offer; empty: none
};

class Context {
 public:
  Context(EventLoop& loop, const lws_protocols* protocols);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // The vhost for `config`, creating the context and vhost as needed.
  // Null on failure, with the reason in error().
  lws_vhost* Vhost(const VhostConfig& config);
  lws_context* get() const { return context_; }
  const std::string& error() const { return error_; }

  // Closes every connection (their callbacks run, synchronously) and frees
  // the context. Must not be called from inside an lws callback.
  void Destroy();

 private:
  struct VhostEntry;
  bool EnsureContext();

  EventLoop& loop_;
  const lws_protocols* protocols_;
  lws_context* context_ = nullptr;
  std::map<std::string, std::unique_ptr<VhostEntry>> vhosts_;
  std::string error_;
};

}  // namespace lwsnode
