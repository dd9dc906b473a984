// What one connection has for JavaScript: events collected while lws runs,
// turned into JavaScript values once lws has returned, and handed over as
// the arguments of as few calls as can be.
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "http_answer.h"
#include "vocabulary.h"

namespace lwsnode {

class EnvState;

class EventBatch {
 public:
  using Kind = EventKind;

  // What the server's handshake answer settled: the Open event's payload;
  // for a refused one, what the server answered (the Failed event's).
  struct Negotiated {
    std::string protocol, extensions;
    HttpAnswer refusal;
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
  // The connection's final event: Closed (code, reason, CloseInitiator) or
  // Failed (X509 verify result or 0, cause, FailurePhase; the server's
  // answer comes from Negotiated).
  void AddFinal(EnvState& state, Kind kind, uint32_t code, const std::string& text, uint32_t tag);

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
    uint32_t code = 0;  // Closed: the close code; Failed: the X509 verify result or 0
    uint32_t tag = 0;   // Closed: the CloseInitiator; Failed: the FailurePhase
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
