// What one connection has for JavaScript: events collected while lws runs,
// turned into JavaScript values once lws has returned, and handed over as
// the arguments of as few calls as can be.
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lwsnode {

class EnvState;

class EventBatch {
 public:
  // Numbers shared with lib/native.ts (NativeEventKind).
  enum class Kind : uint32_t {
    kOpen = 0,
    kText = 1,
    kBinary = 2,
    kClosed = 3,
    kFailed = 4,
    kConnected = 5,
    kDrained = 6,
  };

  // What the server's handshake answer settled: the Open event's payload;
  // for a refused one, a redirect's Location (the Failed event's).
  struct Negotiated {
    std::string protocol, extensions;
    std::string location;
  };

  // `call(argc, argv, final)` calls JavaScript; false stops the delivery
  // (nothing reaches JavaScript after the final event, nor once the
  // environment is terminating).
  using Call = std::function<bool(size_t argc, napi_value* argv, bool final)>;

  bool empty() const { return events_.empty(); }

  // An event without bytes: Open, Connected, Drained.
  void Add(Kind kind) { events_.push_back({kind}); }
  // A whole text or binary message: copied, or (a large one) taking over
  // the reassembly buffer it was collected in.
  void AddMessage(EnvState& state, bool binary, const void* bytes, size_t length);
  void AddMessage(EnvState& state, bool binary, std::string&& bytes);
  // The connection's final event: Closed (code, reason, initiator) or Failed
  // (cause, phase, HTTP status or 0; the Location comes from Negotiated).
  // `tag` must be a string literal: it is read at delivery.
  void AddFinal(EnvState& state, Kind kind, uint32_t code, const std::string& text, const char* tag);

  // Hands every event over, in order, through `call`. Events added
  // meanwhile (JavaScript may abort) wait for the next delivery. False if a
  // text message was dropped: V8 would not make it a string.
  bool Deliver(Napi::Env env, EnvState* state, const Negotiated& negotiated, const Call& call);

 private:
  // Bytes an event carries (a text or binary message, a close reason, a
  // failure cause) are a slice of bytes_, so a burst of small messages
  // costs no allocation each; a large message owns its bytes instead (a
  // binary one's become its Buffer's without a copy).
  struct Event {
    Kind kind;
    uint32_t code = 0;          // Closed: the close code; Failed: the HTTP status or 0
    const char* tag = nullptr;  // Closed: the initiator; Failed: the phase
    size_t at = 0, length = 0;  // the slice of bytes_
    std::string owned;          // a large message
  };

  void AddBytes(EnvState& state, Event event, const void* bytes, size_t length);
  // One call with up to kEventsPerCall events; false stops the delivery.
  static bool CallWith(Napi::Env env, Event* events, size_t count, const std::string& bytes,
                       const Negotiated& negotiated, const Call& call, bool& dropped);

  std::vector<Event> events_;
  std::string bytes_;  // borrowed from EnvState while events wait
};

}  // namespace lwsnode
