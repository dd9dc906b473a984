#include "closing_handshake.h"

#include <cstring>

namespace lwsnode {

bool ClosingHandshake::ValidPeerPayload(const unsigned char* payload, size_t length) {
  if (length == 0) return true;
  if (length == 1) return false;
  unsigned value = (payload[0] << 8) | payload[1];
  return (value >= 1000 && value <= 1003) || (value >= 1007 && value <= 1014) || (value >= 3000 && value <= 4999);
}

bool ClosingHandshake::Request(uint16_t close_code, std::string close_reason, bool failure) {
  if (requested) return false;
  requested = true;
  failing = failure;
  code = close_code;
  reason = std::move(close_reason);
  return true;
}

size_t ClosingHandshake::Payload(unsigned char out[125]) const {
  if (code == LWS_CLOSE_STATUS_NO_STATUS) return 0;
  out[0] = static_cast<unsigned char>(code >> 8);
  out[1] = static_cast<unsigned char>(code & 0xff);
  size_t length = reason.size() < 123 ? reason.size() : 123;  // JS already cut it
  std::memcpy(out + 2, reason.data(), length);
  return 2 + length;
}

void ClosingHandshake::Sent() {
  sent = true;
  sent_at = lws_now_usecs();
}

void ClosingHandshake::Received(const unsigned char* payload, size_t length) {
  received = true;
  if (length >= 2) {
    peer_code = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
    peer_reason.assign(reinterpret_cast<const char*>(payload) + 2, length - 2);
  } else {
    peer_code = LWS_CLOSE_STATUS_NO_STATUS;
  }
}

void ClosingHandshake::Fail(uint16_t failure_code, std::string failure_reason) {
  failing = true;
  requested = true;
  sent = true;
  code = failure_code;
  reason = std::move(failure_reason);
}

ClosingHandshake::Outcome ClosingHandshake::outcome() const {
  if (failing && sent) return Outcome::kFailedByUs;
  if (sent) return received ? Outcome::kClean : Outcome::kUnanswered;
  if (received) return Outcome::kRemote;
  return Outcome::kDropped;
}

bool ClosingHandshake::ack_timed_out(int ack_seconds) const {
  return sent && lws_now_usecs() - sent_at >= ack_seconds * LWS_US_PER_SEC - LWS_US_PER_SEC / 2;
}

}  // namespace lwsnode
