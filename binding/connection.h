// One WebSocket client connection: the lws callbacks of its wsi, receive
// reassembly, and the methods JavaScript calls. What it sends is in
// send_queue.h, its close frames in closing_handshake.h, and the events
// for JavaScript, collected while lws runs and handed over after it has
// returned, in event_batch.h.
#pragma once

#include <libwebsockets.h>
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "closing_handshake.h"
#include "deliverable.h"
#include "event_batch.h"
#include "send_queue.h"
#include "vocabulary.h"

namespace lwsnode {

class EnvState;

class Connection : public Napi::ObjectWrap<Connection>, public Deliverable {
 public:
  static Napi::Function Define(Napi::Env env);
  // The protocol list every vhost is created with: one, bound to this class.
  static const lws_protocols* Protocols();

  explicit Connection(const Napi::CallbackInfo& info);
  ~Connection() override;

  void Deliver() override;
  void Detach() override;
  // Asks lws to connect (EnvState calls it after JavaScript's turn).
  void Start();
  // Hands the frames queued since the last flush to lws (EnvState calls it
  // once JavaScript has had its turn).
  void Flush();

 private:
  // Where the connection is in its life (PhaseOf() gives the failure
  // phase each one reports).
  enum class Phase {
    kQueued,     // waiting for Start()
    kConnecting, // TCP (and TLS) under way
    kHandshake,  // the upgrade request went out
    kOpen,       // established
    kFinished,   // the final event is queued
  };
  static FailurePhase PhaseOf(Phase phase);

  static int OnLwsEvent(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  int HandleLwsEvent(lws* wsi, lws_callback_reasons reason, void* in, size_t len);
  int OnReceive(const unsigned char* data, size_t len);
  int OnFrameLength(size_t length);
  int OnWritable();
  int OnPeerClose(const unsigned char* payload, size_t len);
  void OnPing(const unsigned char* payload, size_t len);
  int AppendHeaders(unsigned char** position, unsigned char* end);
  void OnEstablished();
  void OnClosed();
  // Our closing handshake: the close frame goes out once the queue drains.
  void RequestClose(uint16_t code, std::string reason, bool failing = false);
  // Refuses the message being received: nothing more is delivered, and the
  // connection closes with 1009.
  void RefuseMessage(const char* reason);
  // Writes what the send queue holds; false if lws could not.
  bool WriteQueued(bool writable);
  // Whether events may be collected: not once the environment is going.
  bool Collecting() const;
  // The batch has something for JavaScript: it goes once lws returns.
  void MarkPending();
  void Notify(EventBatch::Kind kind);
  void FinishClosed(uint16_t code, const std::string& reason, CloseInitiator initiator);
  // `verify_result`: the X509_V_ERR_* of a refused certificate, or 0.
  void FinishFailed(const std::string& cause, FailurePhase phase, long verify_result = 0);
  void Finish(EventBatch::Kind kind, uint32_t code, const std::string& text, uint32_t tag);
  // Calls JavaScript with one part of a delivery (EventBatch::Call).
  bool CallJavaScript(size_t argc, napi_value* argv, bool final);

  Napi::Value SendText(const Napi::CallbackInfo& info);
  Napi::Value SendBinary(const Napi::CallbackInfo& info);
  Napi::Value Ping(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetPaused(const Napi::CallbackInfo& info);
  Napi::Value Abort(const Napi::CallbackInfo& info);
  Napi::Value GetBufferedAmount(const Napi::CallbackInfo& info);
  Napi::Value WatchDrain(const Napi::CallbackInfo& info);
  bool CanSend() const;
  void ScheduleFlush();
  size_t BufferedAmount() const;
  void CheckDrained();

  EnvState* state_;
  lws* wsi_ = nullptr;
  Napi::FunctionReference on_events_;
  Napi::ObjectReference logger_;  // its log context must outlive the wsi
  lws_log_cx_t* log_context_ = nullptr;
  EventBatch events_;
  Phase phase_ = Phase::kQueued;
  bool pending_ = false;       // in the environment's delivery list
  bool released_ = false;      // JS no longer held alive by us
  bool aborted_ = false;       // abort() was called: no further progress
  bool report_connected_ = false;  // JS wants the Connected event

  // Connection settings, kept alive for lws while it connects.
  lws_vhost* vhost_ = nullptr;  // acquired from the context until Finish
  std::string vhost_key_;
  int port_ = 0;
  int ssl_flags_ = 0;
  std::string address_, host_, path_, protocols_;
  std::string deflate_offer_;  // the vhost's Sec-WebSocket-Extensions offer
  std::vector<std::string> headers_;  // "Name:", value, "Name:", value ...
  lws_retry_bo_t retry_policy_{};
  size_t max_message_size_ = 0;
  // When lws last saw the server alive (handshake or pong): a close with no
  // closing handshake this long after it was lws's ping_timeout hangup.
  lws_usec_t last_valid_us_ = 0;
  // Why the server's 101 was refused (handshake_check.h), or empty.
  std::string handshake_refusal_;
  // The server's handshake answer, kept from FILTER_PRE_ESTABLISH.
  EventBatch::Negotiated negotiated_;

  // Receive reassembly.
  std::string rx_;
  bool rx_active_ = false;
  bool rx_binary_ = false;
  bool rx_refused_ = false;  // a message went over max_message_size: closing

  SendQueue send_;
  bool flush_scheduled_ = false;
  bool drain_watched_ = false;  // JS waits for BufferedAmount() <= drain_threshold_
  size_t drain_threshold_ = 0;
  ClosingHandshake closing_;
};

}  // namespace lwsnode
