// What one connection has to send, and how it reaches the socket through
// lws without ever breaking a frame: control frames (pongs, then pings)
// first, between two frames; then
// messages in order; each write hands lws whole frames, and the next waits
// until lws has passed every byte of the last one to the socket.
//
// Without permessage-deflate the frames are built here (FrameQueue). With it
// lws deflates and frames each message itself, one message at a time, from
// the message's own buffer.
#pragma once

#include <libwebsockets.h>

#include <cstddef>
#include <string>
#include <vector>

#include "frame_queue.h"
#include "vector_queue.h"

namespace lwsnode {

class SendQueue {
 public:
  enum class Progress {
    kIdle,     // everything queued reached the socket
    kWaiting,  // the socket is full, or lws is still deflating: ask for writable
    kFailed,   // lws could not write: the connection is done
  };

  // permessage-deflate was negotiated: messages go through lws's framing.
  void UseDeflate() { deflate_ = true; }
  bool deflate() const { return deflate_; }

  // Queues one message. `fill(destination)` writes its `length` bytes and may
  // write one byte more (a C string's NUL).
  template <typename Fill>
  void AppendText(size_t length, Fill fill) {
    if (!deflate_) {
      frames_.AppendFilled(FrameQueue::kText, length, fill);
      return;
    }
    Message message{std::vector<unsigned char>(LWS_PRE + length + 1), false};
    fill(message.bytes.data() + LWS_PRE);
    message.bytes.pop_back();
    Push(std::move(message));
  }
  void AppendBinary(const void* bytes, size_t length);

  // A ping arrived: its pong goes out before any message not yet started.
  // Pongs that wait in numbers are dropped oldest first (RFC 6455 5.5.3
  // lets a client answer only the most recent ping).
  void AppendPong(const unsigned char* payload, size_t length);

  // JavaScript asked for a ping (at most 125 bytes, checked there): it too
  // goes out before any message not yet started, so it measures the
  // connection rather than the queue.
  void AppendPing(const unsigned char* payload, size_t length);

  // Writes what the socket takes. `writable` says lws called back as
  // writable, which is also how it tells that a deflated message is done.
  Progress Write(lws* wsi, bool writable);

  // lws is letting the connection go: what it no longer holds of our last
  // write reached the socket.
  void Settle(lws* wsi) {
    if (!lws_partial_buffered(wsi)) in_lws_ = 0;
  }

  // Payload bytes not yet taken by the socket: queued here, or handed to
  // lws and still in its buffer (counted until lws says it is empty).
  size_t buffered() const { return deflated_bytes_ + frames_.pending_payload() + in_lws_; }

  // Nothing left to send, and lws holds nothing of ours: a close frame may
  // follow.
  bool empty() const {
    return buffered() == 0 && frames_.empty() && deflated_.empty() && pongs_.empty() && pings_.empty();
  }

 private:
  struct Message {
    std::vector<unsigned char> bytes;  // LWS_PRE bytes of headroom, then payload
    bool binary;
  };
  static constexpr size_t kMaxPendingPongs = 32;

  void Push(Message message);
  void DropDeflated();
  Progress WriteControls(lws* wsi);
  Progress WriteFrames(lws* wsi);
  Progress WriteDeflated(lws* wsi, bool writable);

  bool deflate_ = false;
  FrameQueue frames_;
  VectorQueue<Message> deflated_;
  size_t deflated_bytes_ = 0;
  bool deflate_in_flight_ = false;  // lws still deflates from deflated_.front()
  std::vector<std::string> pongs_;  // payloads, oldest first
  std::vector<std::string> pings_;  // payloads, oldest first
  size_t in_lws_ = 0;  // payload of our last write that lws kept to send later
};

}  // namespace lwsnode
