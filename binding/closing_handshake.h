// The closing handshake of one connection (RFC 6455 7): the close frame we
// send, the one the server sends, and what the two say about how the
// connection ended.
#pragma once

#include <libwebsockets.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace lwsnode {

struct ClosingHandshake {
  // How a connection that lws has closed ended.
  enum class Outcome {
    kClean,       // our close frame was answered by the server's
    kRemote,      // the server closed first, and lws echoed its close frame
    kFailedByUs,  // we failed the connection with a close code (the server broke a rule)
    kUnanswered,  // our close frame went out; the server's never came
    kDropped,     // no close frame either way
  };

  // A close frame's payload as RFC 6455 7.4 allows a peer to send it: empty,
  // or a code an endpoint may send followed by a reason.
  static bool ValidPeerPayload(const unsigned char* payload, size_t length);

  // Ours is to go once the send queue is empty; false if one already was.
  // `failing`: the server's behaviour made us close (a message too large),
  // so the close code ends the connection whether or not it is answered.
  bool Request(uint16_t code, std::string reason, bool failing = false);
  // Writes our close frame's payload (none for 1005); returns its length.
  size_t Payload(unsigned char out[125]) const;
  void Sent();
  // The server's close frame arrived.
  void Received(const unsigned char* payload, size_t length);
  // We fail the connection with `code` and do not wait for an answer.
  void Fail(uint16_t code, std::string reason = {});

  Outcome outcome() const;
  // Whether lws's wait for the answer to our close frame ran out.
  bool ack_timed_out(int ack_seconds) const;

  bool requested = false;
  bool sent = false;
  bool received = false;
  bool failing = false;
  uint16_t code = 0;  // ours
  std::string reason;
  uint16_t peer_code = 0;  // the server's (1005 when it gave none)
  std::string peer_reason;
  lws_usec_t sent_at = 0;
};

}  // namespace lwsnode
