// Everything one Node environment (main thread or worker) owns: its event
// loop binding, its lws context, its connections, and the way collected
// events reach JavaScript. Torn down by the environment's cleanup hook.
#pragma once

#include <node_api.h>
#include <uv.h>

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "context.h"
#include "deliverable.h"
#include "event_loop.h"
#include "js_call.h"

namespace lwsnode {

class Connection;

class EnvState {
 public:
  EnvState(napi_env env, uv_loop_t* loop);
  EnvState(const EnvState&) = delete;
  EnvState& operator=(const EnvState&) = delete;

  EventLoop& loop() { return loop_; }
  Context& context() { return context_; }
  JsCall& js() { return js_; }
  bool closing() const { return closing_; }

  void Register(Deliverable* object) { objects_.insert(object); }
  void Unregister(Deliverable* object) { objects_.erase(object); }

  // `object` has events for JavaScript; they go out once lws returns.
  void MarkPending(Deliverable* object) { pending_.push_back(object); }

  // Capacity for the bytes of events waiting for delivery, lent to one
  // connection at a time: a busy connection does not allocate a buffer per
  // delivery, and an idle one holds none. LendBuffer gives `buffer` (empty)
  // the spare capacity; ReturnBuffer empties it and keeps the larger.
  void LendBuffer(std::string& buffer) { buffer.swap(spare_buffer_); }
  void ReturnBuffer(std::string& buffer);

  // `connection` has frames to write: they go out together once JavaScript
  // is done queueing (after event delivery, or on the next loop turn).
  void ScheduleFlush(Connection* connection);

  // `connection` is to connect: it does, with every other connection started
  // in the same turn, once JavaScript has had its turn (after event
  // delivery, or on the next loop turn).
  void ScheduleStart(Connection* connection);

  // An open connection keeps the process alive; the last one to end lets it exit.
  void ConnectionStarted();
  void ConnectionEnded();

  // Closes every connection and handle; `done` runs when libuv let go of all.
  void Teardown(std::function<void()> done);

 private:
  void DeliverPending();
  // One object's events to JavaScript; an exception stops here.
  void Deliver(Deliverable* object);

  EventLoop loop_;
  Context context_;
  JsCall js_;
  std::unordered_set<Deliverable*> objects_;  // connections and loggers alive
  std::vector<Deliverable*> pending_;
  std::vector<Connection*> flush_;
  std::vector<Connection*> starts_;
  std::string spare_buffer_;
  int live_connections_ = 0;
  bool delivering_ = false;
  bool closing_ = false;
};

}  // namespace lwsnode
