// Outgoing WebSocket frames built here rather than by lws, for connections
// without permessage-deflate: a client frame is a header, a masking key and
// the payload XORed with it (RFC 6455 5.2, 5.3). lws masks one byte at a
// time and sends one frame per write; here payload is masked a word at a
// time while it is copied in, and every queued frame goes out in as few
// writes as the socket takes.
//
// A message longer than kMaxFramePayload is split into fragments (RFC 6455
// 5.4), so that every write the binding hands lws ends where a frame ends:
// lws may then put a control frame (its ping, its close echo) after any
// write without landing inside a frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vector_queue.h"

namespace lwsnode {

class FrameQueue {
 public:
  enum Opcode : uint8_t { kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kPing = 0x9, kPong = 0xa };

  // The most payload one frame carries: with its header, one write's worth
  // (the protocol's tx_packet_size), so lws sends a frame in one send().
  static constexpr size_t kMaxFramePayload = 256 * 1024;

  // Frames `length` bytes of `payload` as one message of `opcode`.
  void Append(Opcode opcode, const void* payload, size_t length);

  // As Append, but `fill(destination)` writes the `length` payload bytes
  // (a string's UTF-8 encoding, say). It may write one byte more (a C
  // string's NUL), which is then dropped. A message that fits one frame is
  // filled into the queue itself: one copy.
  template <typename Fill>
  void AppendFilled(Opcode opcode, size_t length, Fill fill) {
    if (length > kMaxFramePayload) {
      std::vector<unsigned char> payload(length + 1);
      fill(payload.data());
      Append(opcode, payload.data(), length);
      return;
    }
    unsigned char* payload = Open(opcode, true, length, 1);
    fill(payload);
    bytes_.pop_back();
    Seal(payload, length);
  }

  // The bytes not yet handed to lws, contiguous.
  const unsigned char* data() const { return bytes_.data() + sent_; }
  size_t size() const { return bytes_.size() - sent_; }
  bool empty() const { return sent_ == bytes_.size(); }

  // `count` bytes from data() went to lws.
  void Consume(size_t count);

  // How many bytes from data() make whole frames of at most `limit` bytes
  // together; the first frame whatever its size.
  size_t WholeFrames(size_t limit);

  // Payload bytes of messages not completely handed to lws (a fragmented
  // one counts whole until its last fragment goes): bufferedAmount.
  size_t pending_payload() const { return pending_payload_; }

 private:
  struct Boundary {
    size_t end;      // offset in bytes_ just past the frame
    size_t payload;  // the message's payload length if the frame ends it, else 0
  };
  // Writes the header and masking key; returns where the payload goes.
  unsigned char* Open(Opcode opcode, bool final, size_t length, size_t scratch = 0);
  // Masks the payload in place and records the frame.
  void Seal(unsigned char* payload, size_t length);
  // The frame just written ends the queue: remember where, for Consume().
  void Record(size_t payload);
  static void FillMaskingKey(unsigned char key[4]);

  std::vector<unsigned char> bytes_;
  size_t sent_ = 0;
  VectorQueue<Boundary> frames_;
  size_t pending_payload_ = 0;
};

}  // namespace lwsnode
