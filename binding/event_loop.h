// lws's custom event-library hook, implemented on a Node environment's own
// libuv loop: one uv_poll_t per lws socket, one uv_timer_t for lws's
// scheduler, and no thread or busy polling of our own. What lws asks to
// watch is handed to libuv once per loop turn, just before it polls; what
// lws read in a turn goes on (timers, delivery to JavaScript) once every
// ready socket has been read, from a uv_check_t.
#pragma once

#include <libwebsockets.h>
#include <uv.h>

#include <functional>
#include <unordered_map>
#include <vector>

namespace lwsnode {

class EventLoop {
 public:
  explicit EventLoop(uv_loop_t* loop);
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // What lws_context_creation_info.event_lib_custom must point at; the
  // context's foreign_loops[0] must be this EventLoop.
  static const lws_plugin_evlib_t* Plugin();

  // The context whose sockets and timers this loop serves (null detaches).
  void Attach(lws_context* context) { context_ = context; }

  // Called after every turn in which lws ran, once lws has returned: the
  // place where collected events may be handed to JavaScript.
  void SetAfterService(std::function<void()> after) { after_service_ = std::move(after); }

  // Asks for lws's bookkeeping (timers, buffered input) and event delivery on
  // the next loop turn. Used after JavaScript called into lws, so nothing
  // reaches JavaScript from inside that call.
  void Kick();

  // Keeps the Node process alive while `alive` (an open connection).
  void SetAlive(bool alive);

  // True while lws is running below one of our loop callbacks.
  bool InsideLws() const { return lws_depth_ > 0; }

  // Closes every uv handle; `done` runs once libuv has released them all.
  void Close(std::function<void()> done);

 private:
  struct Watcher;

  // lws_event_loop_ops members.
  static int InitPt(lws_context* context, void* foreign_loop, int tsi);
  static int SockAccept(lws* wsi);
  static void Io(lws* wsi, unsigned int flags);
  static int WsiLogicalClose(lws* wsi);
  static void DestroyWsi(lws* wsi);
  static EventLoop* FromWsi(lws* wsi);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void OnIdle(uv_idle_t* handle);
  static void OnPrepare(uv_prepare_t* handle);
  static void OnCheck(uv_check_t* handle);
  static void OnHandleClosed(uv_handle_t* handle);

  // The bodies of the callbacks above, each run through Boundary().
  int Accept(lws* wsi);
  void Watch(lws* wsi, unsigned int flags);
  static void Polled(Watcher* watcher, int status, int events);
  static void HandleClosed(uv_handle_t* handle);

  void CloseWatcher(lws* wsi);
  // Hands libuv what each changed watcher is to watch now.
  void ApplyWatches();
  // Runs lws's due timers and any forced service, re-arms the timer, then
  // lets the owner deliver what was collected.
  void Service();

  uv_loop_t* loop_;
  lws_context* context_ = nullptr;
  std::unordered_map<lws*, Watcher*> watchers_;
  std::vector<Watcher*> changed_;  // watchers whose events differ from libuv's
  uv_timer_t timer_;
  uv_idle_t idle_;
  uv_prepare_t prepare_;
  uv_check_t check_;
  uv_async_t keepalive_;
  int lws_depth_ = 0;
  int open_handles_ = 0;
  bool closing_ = false;
  std::function<void()> after_service_;
  std::function<void()> on_closed_;
};

}  // namespace lwsnode
