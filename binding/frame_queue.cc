#include "frame_queue.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <random>

namespace lwsnode {

namespace {

// Worth moving the unsent tail to the front once this much has been sent.
constexpr size_t kCompactAfter = 1 << 20;

size_t HeaderLength(size_t payload) {
  if (payload < 126) return 2 + 4;
  if (payload <= 0xffff) return 4 + 4;
  return 10 + 4;
}

// XORs while copying (or in place: `out` may be `in`), eight bytes at a time.
void CopyMasked(unsigned char* out, const unsigned char* in, size_t length, const unsigned char* key_bytes) {
  unsigned char key[4];
  std::memcpy(key, key_bytes, 4);  // key_bytes may lie inside `out`'s frame
  uint32_t key32;
  std::memcpy(&key32, key, 4);
  uint64_t key64 = (static_cast<uint64_t>(key32) << 32) | key32;
  size_t i = 0;
  for (; i + 8 <= length; i += 8) {
    uint64_t word;
    std::memcpy(&word, in + i, 8);
    word ^= key64;
    std::memcpy(out + i, &word, 8);
  }
  for (; i < length; i++) out[i] = in[i] ^ key[i & 3];
}

}  // namespace

// Masking keys must be unpredictable (RFC 6455 5.3, 10.3): they come from
// OpenSSL's generator. One RAND_bytes call costs as much as masking a few
// KiB, so each thread draws 4 KiB of keys at a time for all its connections
// (a pool per connection would cost every idle one its size).
void FrameQueue::FillMaskingKey(unsigned char key[4]) {
  struct KeyPool {
    unsigned char bytes[4096];
    size_t left = 0;
  };
  thread_local KeyPool pool;
  if (pool.left < 4) {
    if (RAND_bytes(pool.bytes, sizeof pool.bytes) != 1) {
      // OpenSSL's generator failing is all but impossible; the keys must
      // still be unpredictable.
      std::random_device device;
      for (unsigned char& byte : pool.bytes) byte = static_cast<unsigned char>(device());
    }
    pool.left = sizeof pool.bytes;
  }
  pool.left -= 4;
  std::memcpy(key, pool.bytes + pool.left, 4);
}

unsigned char* FrameQueue::Open(Opcode opcode, bool final, size_t length, size_t scratch) {
  size_t start = bytes_.size();
  bytes_.resize(start + HeaderLength(length) + length + scratch);
  unsigned char* out = bytes_.data() + start;
  *out++ = static_cast<unsigned char>((final ? 0x80 : 0) | opcode);
  if (length < 126) {
    *out++ = static_cast<unsigned char>(0x80 | length);  // MASK
  } else if (length <= 0xffff) {
    *out++ = 0x80 | 126;
    *out++ = static_cast<unsigned char>(length >> 8);
    *out++ = static_cast<unsigned char>(length);
  } else {
    *out++ = 0x80 | 127;
    for (int shift = 56; shift >= 0; shift -= 8) *out++ = static_cast<unsigned char>(static_cast<uint64_t>(length) >> shift);
  }
  FillMaskingKey(out);
  return out + 4;
}

void FrameQueue::Seal(unsigned char* payload, size_t length) {
  CopyMasked(payload, payload, length, payload - 4);
  Record(length);
}

void FrameQueue::Append(Opcode opcode, const void* payload, size_t length) {
  const auto* in = static_cast<const unsigned char*>(payload);
  size_t message = length;
  do {
    size_t piece = std::min(length, kMaxFramePayload);
    bool final = piece == length;
    unsigned char* destination = Open(opcode, final, piece);
    if (piece) CopyMasked(destination, in, piece, destination - 4);
    // A message counts as queued until its last fragment is handed over.
    Record(final ? message : 0);
    opcode = kContinuation;
    in += piece;
    length -= piece;
  } while (length);
}

void FrameQueue::Record(size_t payload) {
  frames_.push_back({bytes_.size(), payload});
  pending_payload_ += payload;
}

size_t FrameQueue::WholeFrames(size_t limit) {
  size_t count = 0;
  for (const Boundary& frame : frames_) {
    size_t through = frame.end - sent_;
    if (count && through > limit) break;
    count = through;
  }
  return count;
}

void FrameQueue::Consume(size_t count) {
  sent_ += count;
  while (!frames_.empty() && frames_.front().end <= sent_) {
    pending_payload_ -= frames_.front().payload;
    frames_.pop_front();
  }
  if (sent_ == bytes_.size()) {
    bytes_.clear();
    sent_ = 0;
    // A burst of large messages should not pin its peak size for good.
    if (bytes_.capacity() > 4 * kCompactAfter) bytes_.shrink_to_fit();
  } else if (sent_ >= kCompactAfter && sent_ * 2 >= bytes_.size()) {
    bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(sent_));
    for (Boundary& frame : frames_) frame.end -= sent_;
    sent_ = 0;
  }
}

}  // namespace lwsnode
