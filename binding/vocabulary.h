// The words the addon and lib/native.ts share about a connection's events:
// which event it is, where a failed connection was, who closed it. Defined
// here only; constants.cc exports each value under its name, and
// lib/native.ts reads them from there (and checks at load that every name
// it expects is there), so no number is written down twice.
#pragma once

#include <cstdint>

namespace lwsnode {

enum class EventKind : uint32_t {
  kOpen,       // [subprotocol, extensions]
  kText,       // the message
  kBinary,     // the message
  kClosed,     // [code, reason, CloseInitiator]; the final event
  kFailed,     // [cause, FailurePhase, verify result, HTTP answer]; the final event
  kConnected,  // the upgrade request went out (only when asked for)
  kDrained,    // bufferedAmount fell to the threshold given to watchDrain()
};

// Where a connection was when it failed. kSetup: the context or vhost could
// not be made, so there is nothing to retry.
enum class FailurePhase : uint32_t { kSetup, kConnect, kTls, kHandshake, kOpen, kTimeout };

// Who sent the close frame that ended the connection; kFailed: we did, failing
// the connection for a broken rule, without waiting for an answer (not
// clean); kNone: nobody did.
enum class CloseInitiator : uint32_t { kLocal, kRemote, kFailed, kNone };

}  // namespace lwsnode
