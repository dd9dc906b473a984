#include "event_loop.h"

#include <algorithm>

#include "boundary.h"

namespace lwsnode {

namespace {

// Longest sleep lws is asked about; with nothing due sooner the timer stops.
constexpr int kNoTimerDueMs = 3600 * 1000;

}  // namespace

// One per lws socket. Heap-allocated because libuv releases a handle only in
// its close callback, after lws may already have freed the wsi.
struct EventLoop::Watcher {
  uv_poll_t handle;
  EventLoop* loop;
  lws* wsi;
  lws_sockfd_type fd;
  int events;                // what lws wants watched (UV_READABLE, UV_WRITABLE)
  int armed = 0;             // what libuv watches
  bool changed = false;      // in changed_
  bool was_reading = false;  // lws read from it once: the socket is connected
};

EventLoop::EventLoop(uv_loop_t* loop) : loop_(loop) {
  uv_timer_init(loop_, &timer_);
  uv_idle_init(loop_, &idle_);
  uv_prepare_init(loop_, &prepare_);
  uv_check_init(loop_, &check_);
  uv_async_init(loop_, &keepalive_, nullptr);
  for (uv_handle_t* handle : {reinterpret_cast<uv_handle_t*>(&timer_),
                              reinterpret_cast<uv_handle_t*>(&idle_),
                              reinterpret_cast<uv_handle_t*>(&prepare_),
                              reinterpret_cast<uv_handle_t*>(&check_),
                              reinterpret_cast<uv_handle_t*>(&keepalive_)}) {
    handle->data = this;
    ++open_handles_;
  }
  // Only an open connection keeps the process alive (SetAlive); lws's
  // housekeeping timer never does.
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&prepare_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&check_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&keepalive_));
}

const lws_plugin_evlib_t* EventLoop::Plugin() {
  static const lws_event_loop_ops ops = [] {
    lws_event_loop_ops o{};
    o.name = "node-uv";
    o.init_pt = InitPt;
    o.sock_accept = SockAccept;
    o.io = Io;
    o.wsi_logical_close = WsiLogicalClose;
    o.destroy_wsi = DestroyWsi;
    o.evlib_size_pt = sizeof(EventLoop*);
    return o;
  }();
  static const lws_plugin_evlib_t plugin = [] {
    lws_plugin_evlib_t p{};
    p.hdr = {"node uv loop", "lws_evlib_plugin", LWS_BUILD_HASH, LWS_PLUGIN_API_MAGIC};
    p.ops = &ops;
    return p;
  }();
  return &plugin;
}

// Every function below that lws or libuv calls runs its body through
// Boundary() (boundary.h): no C++ exception unwinds into their C frames.

int EventLoop::InitPt(lws_context* context, void* foreign_loop, int tsi) {
  *static_cast<EventLoop**>(lws_evlib_tsi_to_evlib_pt(context, tsi)) =
      static_cast<EventLoop*>(foreign_loop);
  return 0;  // nothing here throws
}

EventLoop* EventLoop::FromWsi(lws* wsi) {
  return *static_cast<EventLoop**>(lws_evlib_wsi_to_evlib_pt(wsi));
}

int EventLoop::SockAccept(lws* wsi) {
  return Boundary(1, [wsi] { return FromWsi(wsi)->Accept(wsi); });
}

int EventLoop::Accept(lws* wsi) {
  if (closing_) return 1;
  CloseWatcher(wsi);  // a retried connect brings a new socket
  auto* watcher = new Watcher{{}, this, wsi, lws_get_socket_fd(wsi), 0};
  if (uv_poll_init_socket(loop_, &watcher->handle, watcher->fd) != 0) {
    delete watcher;
    return 1;
  }
  watcher->handle.data = watcher;
  uv_unref(reinterpret_cast<uv_handle_t*>(&watcher->handle));
  ++open_handles_;
  watchers_[wsi] = watcher;
  return 0;
}

void EventLoop::Io(lws* wsi, unsigned int flags) {
  Boundary([wsi, flags] { FromWsi(wsi)->Watch(wsi, flags); });
}

void EventLoop::Watch(lws* wsi, unsigned int flags) {
  auto found = watchers_.find(wsi);
  if (found == watchers_.end()) return;
  Watcher* watcher = found->second;

  int change = 0;
  if (flags & LWS_EV_READ) change |= UV_READABLE;
  if (flags & LWS_EV_WRITE) change |= UV_WRITABLE;
  int events = (flags & LWS_EV_START) ? (watcher->events | change)
                                      : (watcher->events & ~change);
  if (events == watcher->events) return;
  watcher->events = events;
  if (events & UV_READABLE) watcher->was_reading = true;
  // libuv's uv_poll_start removes the socket from epoll and adds it again
  // (three epoll_ctl calls), and lws changes a socket's events several
  // times in one turn while it opens: the last word goes to libuv once,
  // before it polls.
  if (watcher->changed) return;
  watcher->changed = true;
  changed_.push_back(watcher);
  if (changed_.size() == 1) uv_prepare_start(&prepare_, OnPrepare);
}

void EventLoop::OnPrepare(uv_prepare_t* handle) {
  Boundary([handle] { static_cast<EventLoop*>(handle->data)->ApplyWatches(); });
}

void EventLoop::ApplyWatches() {
  for (Watcher* watcher : changed_) {
    watcher->changed = false;
    // A connected socket lws stopped reading (rx flow control: pause()) is
    // still watched for the peer hanging up (FIN: UV_DISCONNECT; RST: an error).
    int armed = watcher->events;
    if (watcher->was_reading && !(armed & UV_READABLE)) armed |= UV_DISCONNECT;
    if (armed == watcher->armed) continue;
    watcher->armed = armed;
    if (armed)
      uv_poll_start(&watcher->handle, armed, OnPoll);
    else
      uv_poll_stop(&watcher->handle);
  }
  changed_.clear();
  uv_prepare_stop(&prepare_);
}

int EventLoop::WsiLogicalClose(lws* wsi) {
  // Called before lws closes the socket: the poll must be gone by then.
  Boundary([wsi] { FromWsi(wsi)->CloseWatcher(wsi); });
  return 0;
}

void EventLoop::DestroyWsi(lws* wsi) {
  Boundary([wsi] { FromWsi(wsi)->CloseWatcher(wsi); });
}

void EventLoop::CloseWatcher(lws* wsi) {
  auto found = watchers_.find(wsi);
  if (found == watchers_.end()) return;
  Watcher* watcher = found->second;
  watchers_.erase(found);
  watcher->wsi = nullptr;
  if (watcher->changed) changed_.erase(std::find(changed_.begin(), changed_.end(), watcher));
  uv_close(reinterpret_cast<uv_handle_t*>(&watcher->handle), OnHandleClosed);
}

void EventLoop::OnPoll(uv_poll_t* handle, int status, int events) {
  Boundary([handle, status, events] { Polled(static_cast<Watcher*>(handle->data), status, events); });
}

void EventLoop::Polled(Watcher* watcher, int status, int events) {
  EventLoop* self = watcher->loop;
  if (!self->context_ || !watcher->wsi || status == UV_EAGAIN) return;

  lws_pollfd pollfd{};
  pollfd.fd = watcher->fd;
  if (status < 0) {
    pollfd.events = pollfd.revents = LWS_POLLHUP;
  } else {
    // libuv may still watch for what lws stopped wanting this turn.
    events &= watcher->events | UV_DISCONNECT;
    if (!events) return;
    if (events & UV_READABLE) pollfd.revents |= LWS_POLLIN;
    if (events & UV_WRITABLE) pollfd.revents |= LWS_POLLOUT;
    if ((events & UV_DISCONNECT) && !(watcher->events & UV_READABLE)) {
      // The peer is gone while lws was told not to read: there is nothing
      // left to hold back, so lws reads what remains (a close frame, say)
      // and then the end. JS still holds any messages for a pause().
      lws_rx_flow_control(watcher->wsi, 1);
      pollfd.revents |= LWS_POLLIN;
    }
    pollfd.events = pollfd.revents;
  }
  ++self->lws_depth_;
  lws_service_fd(self->context_, &pollfd);
  --self->lws_depth_;
  // The rest waits until every socket ready in this turn has been read.
  uv_check_start(&self->check_, OnCheck);
}

void EventLoop::OnCheck(uv_check_t* handle) {
  uv_check_stop(handle);
  Boundary([handle] { static_cast<EventLoop*>(handle->data)->Service(); });
}

void EventLoop::OnTimer(uv_timer_t* handle) {
  Boundary([handle] { static_cast<EventLoop*>(handle->data)->Service(); });
}

void EventLoop::OnIdle(uv_idle_t* handle) {
  uv_idle_stop(handle);
  Boundary([handle] { static_cast<EventLoop*>(handle->data)->Service(); });
}

void EventLoop::Service() {
  if (closing_) return;
  if (context_) {
    // lws never tells an event library about its timers: ask it what is due
    // (this also runs whatever already is) and how long until the next.
    ++lws_depth_;
    int wait_ms = lws_service_adjust_timeout(context_, kNoTimerDueMs, 0);
    if (wait_ms == 0) {
      // Input is buffered inside lws (TLS records, flow-controlled rx,
      // inflate output): service it without waiting for the socket.
      _lws_plat_service_forced_tsi(context_, 0);
      wait_ms = lws_service_adjust_timeout(context_, kNoTimerDueMs, 0);
    }
    --lws_depth_;
    if (wait_ms == 0)
      uv_idle_start(&idle_, OnIdle);
    else if (wait_ms >= kNoTimerDueMs)
      uv_timer_stop(&timer_);
    else
      uv_timer_start(&timer_, OnTimer, static_cast<uint64_t>(wait_ms), 0);
  }
  if (after_service_) after_service_();
}

void EventLoop::Kick() {
  if (!closing_) uv_idle_start(&idle_, OnIdle);
}

void EventLoop::SetAlive(bool alive) {
  if (closing_) return;
  if (alive)
    uv_ref(reinterpret_cast<uv_handle_t*>(&keepalive_));
  else
    uv_unref(reinterpret_cast<uv_handle_t*>(&keepalive_));
}

void EventLoop::Close(std::function<void()> done) {
  closing_ = true;
  on_closed_ = std::move(done);
  while (!watchers_.empty()) CloseWatcher(watchers_.begin()->first);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&check_), OnHandleClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&keepalive_), OnHandleClosed);
}

void EventLoop::OnHandleClosed(uv_handle_t* handle) {
  Boundary([handle] { HandleClosed(handle); });
}

void EventLoop::HandleClosed(uv_handle_t* handle) {
  EventLoop* self;
  if (handle->type == UV_POLL) {
    auto* watcher = static_cast<Watcher*>(handle->data);
    self = watcher->loop;
    delete watcher;
  } else {
    self = static_cast<EventLoop*>(handle->data);
  }
  if (--self->open_handles_ == 0 && self->closing_ && self->on_closed_) {
    auto done = std::move(self->on_closed_);
    done();  // may delete self
  }
}

}  // namespace lwsnode
