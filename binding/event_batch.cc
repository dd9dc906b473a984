#include "event_batch.h"

#include <algorithm>

#include "env_state.h"

namespace lwsnode {

namespace {

// Messages from this size on are kept in a buffer of their own rather than
// copied into the shared event buffer, and a binary one is handed to JS as
// it is, the Buffer owning its bytes. Smaller binary messages are copied
// into V8's heap (cheapest to make and collect).
constexpr size_t kZeroCopyFrom = 64 * 1024;

// Events per call into JavaScript, as arguments: V8 passes them on the
// stack, so a read of thousands of tiny messages is split into calls.
constexpr size_t kEventsPerCall = 512;

// [status, statusText, [name, value, ...]], or undefined when the server
// sent no status line.
Napi::Value AnswerValue(Napi::Env env, const HttpAnswer& answer) {
  if (!answer.status) return env.Undefined();
  Napi::Array headers = Napi::Array::New(env, answer.headers.size());
  for (uint32_t i = 0; i < answer.headers.size(); i++) headers.Set(i, Napi::String::New(env, answer.headers[i]));
  Napi::Array value = Napi::Array::New(env, 3);
  value.Set(0u, answer.status);
  value.Set(1u, Napi::String::New(env, answer.status_text));
  value.Set(2u, headers);
  return value;
}

Napi::Value OwnedBuffer(Napi::Env env, std::string data) {
  auto* owned = new std::string(std::move(data));
  return Napi::Buffer<char>::New(env, owned->data(), owned->size(),
                                 [](Napi::Env, char*, std::string* bytes) { delete bytes; }, owned);
}

}  // namespace

void EventBatch::AddMessage(EnvState& state, bool binary, const void* bytes, size_t length) {
  if (length >= kZeroCopyFrom)
    AddMessage(state, binary, std::string(static_cast<const char*>(bytes), length));
  else
    AddBytes(state, {binary ? Kind::kBinary : Kind::kText}, bytes, length);
}

void EventBatch::AddMessage(EnvState& state, bool binary, std::string&& bytes) {
  if (bytes.size() < kZeroCopyFrom) {
    AddBytes(state, {binary ? Kind::kBinary : Kind::kText}, bytes.data(), bytes.size());
    return;
  }
  Event event{binary ? Kind::kBinary : Kind::kText};
  event.owned = std::move(bytes);
  events_.push_back(std::move(event));
}

void EventBatch::AddFinal(EnvState& state, Kind kind, uint32_t code, const std::string& text, uint32_t tag) {
  AddBytes(state, {kind, code, tag}, text.data(), text.size());
}

void EventBatch::AddBytes(EnvState& state, Event event, const void* bytes, size_t length) {
  if (bytes_.empty()) state.LendBuffer(bytes_);
  event.at = bytes_.size();
  event.length = length;
  bytes_.append(static_cast<const char*>(bytes), length);
  events_.push_back(std::move(event));
}

bool EventBatch::Deliver(Napi::Env env, EnvState* state, const Negotiated& negotiated, const Call& call) {
  std::vector<Event> events;
  events.swap(events_);
  std::string bytes;
  bytes.swap(bytes_);
  bool dropped = false;
  for (size_t first = 0; first < events.size(); first += kEventsPerCall)
    if (!CallWith(env, events.data() + first, std::min(kEventsPerCall, events.size() - first), bytes, negotiated, call,
                  dropped))
      break;
  if (state) state->ReturnBuffer(bytes);
  return !dropped;
}

// call(kind, payload, kind, payload, …): as arguments rather than an array,
// which Node-API could only fill one napi_set_element at a time.
bool EventBatch::CallWith(Napi::Env env, Event* events, size_t count, const std::string& bytes,
                          const Negotiated& negotiated, const Call& call, bool& dropped) {
  Napi::HandleScope scope(env);
  napi_value argv[2 * kEventsPerCall];
  size_t argc = 0;
  bool final = false;
  auto text = [&](const Event& event) {
    if (!event.owned.empty()) return Napi::String::New(env, event.owned);
    return Napi::String::New(env, bytes.data() + event.at, event.length);
  };
  for (Event* event = events; event != events + count; event++) {
    napi_value kind = Napi::Number::New(env, static_cast<uint32_t>(event->kind));
    napi_value payload = env.Undefined();
    switch (event->kind) {
      case Kind::kOpen: {
        Napi::Array open = Napi::Array::New(env, 2);
        open.Set(0u, Napi::String::New(env, negotiated.protocol));
        open.Set(1u, Napi::String::New(env, negotiated.extensions));
        payload = open;
        break;
      }
      case Kind::kText: {
        // Not Napi::String::New: past V8's longest string (~512 MiB) the
        // call fails with "Invalid string length" pending, and a throw would
        // lose the whole batch.
        const char* data = event->owned.empty() ? bytes.data() + event->at : event->owned.data();
        size_t length = event->owned.empty() ? event->length : event->owned.size();
        if (napi_create_string_utf8(env, data, length, &payload) != napi_ok) {
          napi_value error;
          bool pending = false;
          if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &error);
          dropped = true;
          continue;
        }
        break;
      }
      case Kind::kBinary:
        payload = event->owned.empty() ? Napi::Buffer<char>::Copy(env, bytes.data() + event->at, event->length)
                                       : OwnedBuffer(env, std::move(event->owned));
        break;
      case Kind::kClosed: {
        Napi::Array closed = Napi::Array::New(env, 3);
        closed.Set(0u, event->code);
        closed.Set(1u, text(*event));
        closed.Set(2u, event->tag);
        payload = closed;
        final = true;
        break;
      }
      case Kind::kFailed: {
        Napi::Array failed = Napi::Array::New(env, 4);
        failed.Set(0u, text(*event));
        failed.Set(1u, event->tag);
        failed.Set(2u, event->code);
        failed.Set(3u, AnswerValue(env, negotiated.refusal));
        payload = failed;
        final = true;
        break;
      }
      case Kind::kConnected:
      case Kind::kDrained:
        break;
    }
    argv[argc++] = kind;
    argv[argc++] = payload;
  }
  return (argc == 0 || call(argc, argv, final)) && !final;
}

}  // namespace lwsnode
