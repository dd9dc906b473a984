#include "env_state.h"

#include <napi.h>

#include <exception>

#include "boundary.h"
#include "connection.h"

namespace lwsnode {

EnvState::EnvState(napi_env env, uv_loop_t* loop)
    : loop_(loop), context_(loop_, Connection::Protocols()), js_(env) {
  loop_.SetAfterService([this] { DeliverPending(); });
}

void EnvState::ConnectionStarted() {
  if (live_connections_++ == 0) loop_.SetAlive(true);
}

void EnvState::ConnectionEnded() {
  if (--live_connections_ == 0) loop_.SetAlive(false);
}

void EnvState::DeliverPending() {
  // A listener may call back into us (send, close, connect); whatever that
  // queues is picked up by this same loop rather than delivered re-entrantly.
  if (delivering_ || closing_ || !js_.running()) return;
  delivering_ = true;
  // Nothing here may throw past this (boundary.h); delivering_ must come
  // back down whatever happens, or nothing is ever delivered again.
  Boundary([this] {
    while (!pending_.empty() || !flush_.empty() || !starts_.empty()) {
      std::vector<Deliverable*> batch;
      batch.swap(pending_);
      // Once the environment is found terminating, nothing more goes to JS.
      for (Deliverable* object : batch)
        if (objects_.count(object) && js_.running()) Deliver(object);
      // What the listeners just sent goes out now, in as few writes as can be.
      std::vector<Connection*> writers;
      writers.swap(flush_);
      for (Connection* connection : writers)
        if (objects_.count(connection)) connection->Flush();
      std::vector<Connection*> starting;
      starting.swap(starts_);
      for (Connection* connection : starting)
        if (objects_.count(connection)) connection->Start();
      // lws set timers while connecting (its own connect timeout): the next
      // turn's Service() hands them to the loop's timer.
      if (!starting.empty()) loop_.Kick();
    }
  });
  delivering_ = false;
}

void EnvState::Deliver(Deliverable* object) {
  // A Node-API call that fails throws (NAPI_CPP_EXCEPTIONS): in a
  // terminating environment every one that could run JavaScript does.
  // JsCall finds out which it is: a terminating environment stops calls
  // quietly, anything else is reported as an uncaught exception.
  try {
    object->Deliver();
  } catch (const Napi::Error& error) {
    js_.Failed(error, nullptr);
  } catch (const std::exception& error) {
    js_.Failed(nullptr, error.what());
  } catch (...) {
    js_.Failed(nullptr, "libwebsockets: an unknown C++ exception while delivering events");
  }
}

void EnvState::ReturnBuffer(std::string& buffer) {
  // Kept up to a size a burst of small messages needs; a large message's
  // buffer goes back to malloc.
  constexpr size_t kLargestKept = 256 * 1024;
  buffer.clear();
  if (buffer.capacity() > spare_buffer_.capacity() && buffer.capacity() <= kLargestKept) buffer.swap(spare_buffer_);
  std::string().swap(buffer);
}

void EnvState::ScheduleFlush(Connection* connection) {
  flush_.push_back(connection);
  // Outside event delivery, the next loop turn flushes.
  if (!delivering_) loop_.Kick();
}

void EnvState::ScheduleStart(Connection* connection) {
  starts_.push_back(connection);
  if (!delivering_) loop_.Kick();
}

void EnvState::Teardown(std::function<void()> done) {
  closing_ = true;
  pending_.clear();
  flush_.clear();
  starts_.clear();
  // lws runs every connection's close callbacks inside this call; with
  // closing_ set they only record, and nothing reaches JavaScript.
  context_.Destroy();
  for (Deliverable* object : objects_) object->Detach();
  objects_.clear();
  js_.Dispose();
  loop_.Close(std::move(done));
}

}  // namespace lwsnode
