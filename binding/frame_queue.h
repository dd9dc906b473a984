// Outgoing WebSocket frames built here rather than by lws, for connections
// without permessage-deflate: a client frame is a header, a masking key and
// the payload XORed with it (RFC 6455 5.2, 5.3). lws masks one byte at a
// time and sends one frame per write; here payload is masked a word at a
// time while it is copied in, and every queued frame goes out in as few
// writes as the socket takes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "vector_queue.h"

namespace lwsnode {

class FrameQueue {
 public:
  enum Opcode : uint8_t { kText = 0x1, kBinary = 0x2, kClose = 0x8 };

  // Frames `length` bytes of `payload` as one final frame of `opcode`.
  void Append(Opcode opcode, const void* payload, size_t length);

  // As Append, but `fill(destination)` writes the `length` payload bytes
  // into the queue itself (a string's UTF-8 encoding, say): one copy. It
  // may write one byte more (a C string's NUL), which is then dropped.
  template <typename Fill>
  void AppendFilled(Opcode opcode, size_t length, Fill fill) {
    unsigned char* payload = Open(opcode, length, 1);
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

  // Bytes from data() to the end of a frame already partly handed to lws;
  // 0 when data() starts a frame.
  size_t ToFrameEnd() const;

  // Payload bytes of messages not completely handed to lws: bufferedAmount.
  size_t pending_payload() const { return pending_payload_; }

 private:
  struct Boundary {
    size_t end;      // offset in bytes_ just past the frame
    size_t payload;  // its payload length
  };
  // Writes the header and masking key; returns where the payload goes.
  unsigned char* Open(Opcode opcode, size_t length, size_t scratch = 0);
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
