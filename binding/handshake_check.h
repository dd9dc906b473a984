// What a server's 101 may select of what the client offered: one offered
// subprotocol (RFC 6455 4.1), and of the extensions only ones offered, each
// once, with parameters the offer allows (RFC 7692 7.1). It runs from
// LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP, before lws sets up any extension
// (lws 4.3.5 overflowed its extension arrays on a duplicate) and before
// FILTER_PRE_ESTABLISH, which comes after that set-up.
#pragma once

#include <string>

namespace lwsnode {

// Empty if the answer is acceptable, otherwise why not (a ConnectionFailed's
// cause). `offered_protocols`: the names sent, ", "-separated, or empty.
// `protocol`: the server's Sec-WebSocket-Protocol (repeated headers joined
// with ','), or empty when absent.
std::string CheckSubprotocol(const std::string& offered_protocols, const std::string& protocol);

// `offer`: the Sec-WebSocket-Extensions we sent (lib/options.ts builds it),
// or empty. `accepted`: the server's answer, or empty when absent.
std::string CheckExtensions(const std::string& offer, const std::string& accepted);

}  // namespace lwsnode
