#include "send_queue.h"

#include <cstring>

namespace lwsnode {

namespace {

// At most this many bytes of whole frames per write: lws's own limit per
// send() (the protocol's tx_packet_size, connection.cc), so the socket is
// asked once per write.
constexpr size_t kWriteLimit = 256 * 1024;

}  // namespace

void SendQueue::AppendBinary(const void* bytes, size_t length) {
  if (!deflate_) {
    frames_.Append(FrameQueue::kBinary, bytes, length);
    return;
  }
  Message message{std::vector<unsigned char>(LWS_PRE + length), true};
  if (length) std::memcpy(message.bytes.data() + LWS_PRE, bytes, length);
  Push(std::move(message));
}

void SendQueue::Push(Message message) {
  deflated_bytes_ += message.bytes.size() - LWS_PRE;
  deflated_.push_back(std::move(message));
}

void SendQueue::DropDeflated() {
  deflated_bytes_ -= deflated_.front().bytes.size() - LWS_PRE;
  deflated_.pop_front();
}

void SendQueue::AppendPong(const unsigned char* payload, size_t length) {
  if (pongs_.size() == kMaxPendingPongs) pongs_.erase(pongs_.begin());
  pongs_.emplace_back(reinterpret_cast<const char*>(payload), length);
}

void SendQueue::AppendPing(const unsigned char* payload, size_t length) {
  pings_.emplace_back(reinterpret_cast<const char*>(payload), length);
}

SendQueue::Progress SendQueue::Write(lws* wsi, bool writable) {
  // lws sends what it kept of our last write before anything else and calls
  // back as writable once it has: until then nothing more goes to it, so
  // its buffer never holds more than one write.
  if (lws_partial_buffered(wsi)) return Progress::kWaiting;
  in_lws_ = 0;
  Progress progress = WriteControls(wsi);
  if (progress != Progress::kIdle) return progress;
  return deflate_ ? WriteDeflated(wsi, writable) : WriteFrames(wsi);
}

SendQueue::Progress SendQueue::WriteControls(lws* wsi) {
  if (pongs_.empty() && pings_.empty()) return Progress::kIdle;
  FrameQueue controls;
  for (const std::string& payload : pongs_) controls.Append(FrameQueue::kPong, payload.data(), payload.size());
  for (const std::string& payload : pings_) controls.Append(FrameQueue::kPing, payload.data(), payload.size());
  pongs_.clear();
  pings_.clear();
  if (lws_write(wsi, const_cast<unsigned char*>(controls.data()), controls.size(), LWS_WRITE_RAW) < 0)
    return Progress::kFailed;
  return lws_partial_buffered(wsi) ? Progress::kWaiting : Progress::kIdle;
}

SendQueue::Progress SendQueue::WriteFrames(lws* wsi) {
  while (!frames_.empty()) {
    size_t chunk = frames_.WholeFrames(kWriteLimit);
    size_t payload_before = frames_.pending_payload();
    if (lws_write(wsi, const_cast<unsigned char*>(frames_.data()), chunk, LWS_WRITE_RAW) < 0)
      return Progress::kFailed;
    frames_.Consume(chunk);
    if (lws_partial_buffered(wsi)) {
      // The socket took part of it; lws sends the rest later. Which part is
      // not told, so the whole write stays counted until then.
      in_lws_ = payload_before - frames_.pending_payload();
      return Progress::kWaiting;
    }
  }
  return Progress::kIdle;
}

SendQueue::Progress SendQueue::WriteDeflated(lws* wsi, bool writable) {
  // lws goes on deflating straight from a message's buffer over later
  // writable events, and calls back only once it is done: only then may the
  // buffer go, and the next message follow.
  if (deflate_in_flight_) {
    if (!writable) return Progress::kWaiting;
    deflate_in_flight_ = false;
    DropDeflated();
  }
  while (!deflated_.empty()) {
    Message& message = deflated_.front();
    size_t payload = message.bytes.size() - LWS_PRE;
    if (payload == 0) {
      // lws's deflate cannot produce an empty message; an uncompressed
      // frame may carry it (RFC 7692 6).
      frames_.Append(message.binary ? FrameQueue::kBinary : FrameQueue::kText, nullptr, 0);
      DropDeflated();
      Progress progress = WriteFrames(wsi);
      if (progress != Progress::kIdle) return progress;
      continue;
    }
    if (lws_write(wsi, message.bytes.data() + LWS_PRE, payload, message.binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0)
      return Progress::kFailed;
    deflate_in_flight_ = true;
    return Progress::kWaiting;
  }
  return Progress::kIdle;
}

}  // namespace lwsnode
