#include "connection.h"

#include <algorithm>
#include <cstring>

#include "addon.h"
#include "boundary.h"
#include "connect_error.h"
#include "env_state.h"
#include "handshake_check.h"
#include "http_answer.h"
#include "logger.h"
#include "lws_hooks.h"

namespace lwsnode {

namespace {

constexpr const char kProtocolName[] = "libwebsockets-node";

// lws keeps LWS_WRITE_CLOSE (4) out of its public enum because it wants
// lws_close_reason() used instead; that always writes a status code, and a
// close without one (1005) must go out as an empty close frame (RFC 6455
// 7.1.5). The value has not changed since lws 1.x.
constexpr auto kWriteClose = static_cast<lws_write_protocol>(4);

// lws reads at most the smaller of this and the context's service buffer
// per readable event, and hands payload to us in pieces of this size. It is
// allocated per connection; lws_allocator.cc maps it so that an idle
// connection keeps it out of RSS.
constexpr size_t kReceiveBufferSize = 128 * 1024;

// lws writes at most this much per send() (lws_issue_raw); its default,
// the 4 KiB service buffer, turned a 1 MiB message into 256 sends. A frame
// of FrameQueue::kMaxFramePayload fits, header included.
constexpr size_t kSendPacketSize = FrameQueue::kMaxFramePayload + 16;

// The longest string V8 makes (v8::String::kMaxLength on 64-bit): a longer
// text message cannot be handed to JavaScript.
constexpr size_t kMaxStringLength = (size_t{1} << 29) - 24;

// How much of a frame's declared length is reserved before it arrives.
constexpr size_t kTrustedFrameLength = 1 << 20;

// How long the server gets to answer our close frame before the socket is
// dropped (lws's own close-ack wait is the same).
constexpr int kCloseAckSeconds = 5;

std::string GetString(const Napi::Object& object, const char* key) {
  return object.Get(key).As<Napi::String>().Utf8Value();
}

uint32_t GetUint(const Napi::Object& object, const char* key) {
  return object.Get(key).As<Napi::Number>().Uint32Value();
}

std::string GetBytes(const Napi::Value& value) {
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  return std::string(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength());
}

// lib/native.ts NativeVhostOptions, minus the key.
VhostConfig ReadVhostConfig(const Napi::Object& options) {
  VhostConfig config;
  config.deflate_offer = GetString(options, "deflateOffer");
  Napi::Array ca = options.Get("caCertificates").As<Napi::Array>();
  for (uint32_t i = 0; i < ca.Length(); i++) config.ca_certificates.push_back(GetBytes(ca.Get(i)));
  config.replace_system_ca = options.Get("replaceSystemCa").As<Napi::Boolean>();
  config.system_ca = options.Get("systemCa").As<Napi::Boolean>();
  if (options.Get("clientCertificate").IsTypedArray()) {
    config.client_certificate = GetBytes(options.Get("clientCertificate"));
    config.client_key = GetBytes(options.Get("clientKey"));
  }
  config.http_proxy = GetString(options, "httpProxy");
  config.socks_proxy = GetString(options, "socksProxy");
  return config;
}

std::string HeaderValue(lws* wsi, lws_token_indexes token) {
  int length = lws_hdr_total_length(wsi, token);
  if (length <= 0) return {};
  std::string value(static_cast<size_t>(length) + 1, '\0');
  int copied = lws_hdr_copy(wsi, value.data(), length + 1, token);
  value.resize(copied > 0 ? static_cast<size_t>(copied) : 0);
  return value;
}

}  // namespace

const lws_protocols* Connection::Protocols() {
  static const lws_protocols protocols[] = {
      {kProtocolName, OnLwsEvent, 0, kReceiveBufferSize, 0, nullptr, kSendPacketSize},
      LWS_PROTOCOL_LIST_TERM,
  };
  return protocols;
}

Napi::Function Connection::Define(Napi::Env env) {
  return DefineClass(env, "Connection",
                     {
                         InstanceMethod<&Connection::SendText>("sendText"),
                         InstanceMethod<&Connection::SendBinary>("sendBinary"),
                         InstanceMethod<&Connection::Ping>("ping"),
                         InstanceMethod<&Connection::Close>("close"),
                         InstanceMethod<&Connection::SetPaused>("setPaused"),
                         InstanceMethod<&Connection::Abort>("abort"),
                         InstanceMethod<&Connection::WatchDrain>("watchDrain"),
                         InstanceAccessor<&Connection::GetBufferedAmount>("bufferedAmount"),
                     });
}

// new Connection(options, address, vhost, logger, reportConnected, onEvents):
// lib/native.ts declares them; lib/options.ts has validated and normalised
// every value.
Connection::Connection(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Connection>(info), state_(Addon::State(info.Env())) {
  Napi::Object options = info[0].As<Napi::Object>();
  report_connected_ = info[4].As<Napi::Boolean>().Value();
  on_events_ = Napi::Persistent(info[5].As<Napi::Function>());
  state_->Register(this);

  address_ = info[1].As<Napi::String>().Utf8Value();
  host_ = GetString(options, "host");
  path_ = GetString(options, "path");
  protocols_ = GetString(options, "protocols");
  Napi::Array headers = options.Get("headers").As<Napi::Array>();
  for (uint32_t i = 0; i < headers.Length(); i++)
    headers_.push_back(headers.Get(i).As<Napi::String>().Utf8Value());
  retry_policy_.secs_since_valid_ping = static_cast<uint16_t>(GetUint(options, "pingInterval"));
  retry_policy_.secs_since_valid_hangup = static_cast<uint16_t>(GetUint(options, "pingTimeout"));
  max_message_size_ = static_cast<size_t>(options.Get("maxMessageSize").As<Napi::Number>().Int64Value());

  Napi::Object vhost_options = info[2].As<Napi::Object>();
  deflate_offer_ = GetString(vhost_options, "deflateOffer");

  // Until the final event reaches JavaScript, the connection keeps its JS
  // object and the process alive.
  Ref();
  state_->ConnectionStarted();

  vhost_key_ = GetString(vhost_options, "key");
  vhost_ = state_->context().Acquire(vhost_key_, [&] { return ReadVhostConfig(vhost_options); });
  if (!vhost_) {
    FinishFailed(state_->context().error(), FailurePhase::kSetup);
    state_->loop().Kick();
    return;
  }
  port_ = static_cast<int>(GetUint(options, "port"));
  ssl_flags_ = static_cast<int>(GetUint(options, "sslFlags"));
  Napi::Value logger = info[3];
  if (logger.IsObject()) {
    logger_ = Napi::Persistent(logger.As<Napi::Object>());
    log_context_ = Logger::Unwrap(logger_.Value())->log_context();
  }
  state_->ScheduleStart(this);
}

FailurePhase Connection::PhaseOf(Phase phase) {
  switch (phase) {
    case Phase::kHandshake:
      return FailurePhase::kHandshake;
    case Phase::kOpen:
    case Phase::kFinished:
      return FailurePhase::kOpen;
    default:
      return FailurePhase::kConnect;
  }
}

// Called by EnvState with the other connections started in the same turn,
// once JavaScript is done: their connect()s reach the server together.
void Connection::Start() {
  if (phase_ != Phase::kQueued) return;  // aborted before it started
  phase_ = Phase::kConnecting;
  lws_client_connect_info connect{};
  connect.context = state_->context().get();
  connect.vhost = vhost_;
  connect.address = address_.c_str();
  connect.port = port_;
  connect.path = path_.c_str();
  connect.host = host_.c_str();
  connect.protocol = protocols_.empty() ? nullptr : protocols_.c_str();
  connect.local_protocol_name = kProtocolName;
  connect.ietf_version_or_minus_one = -1;
  // The flag files lws's ping/hangup deadline under the timers that would
  // wake a suspended device (there is no such thing here: lws runs both
  // lists alike). Each list then holds deadlines one fixed distance ahead,
  // so a new one goes last, which lws's sorted insert (a walk from the head)
  // finds in one step; mixed with the opening's timeouts, each new timeout
  // walked past those of every connection opening.
  //
  // lws would follow a 3xx by itself: with our custom headers to whatever
  // host the Location names, resolving it with a blocking call on the loop,
  // to a Unix socket even. It reports the 3xx as a failed upgrade instead,
  // and lib/connect.ts decides whether to follow (follow_redirects).
  connect.ssl_connection = ssl_flags_ | LCCSCF_WAKE_SUSPEND__VALIDITY | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
  connect.retry_and_idle_policy = &retry_policy_;
  connect.opaque_user_data = this;
  connect.pwsi = &wsi_;
  connect.log_cx = log_context_;

  // lws may report a failure from inside this call: it is queued like any
  // event, and delivered once this turn's starts are done.
  if (!lws_client_connect_via_info(&connect) && phase_ != Phase::kFinished)
    FinishFailed("lws could not start the connection", FailurePhase::kConnect);
}

Connection::~Connection() {
  if (state_) state_->Unregister(this);
  if (wsi_) lws_set_opaque_user_data(wsi_, nullptr);
}

void Connection::Detach() {
  state_ = nullptr;
  wsi_ = nullptr;
}

int Connection::OnLwsEvent(lws* wsi, lws_callback_reasons reason, void*, void* in, size_t len) {
  auto* self = static_cast<Connection*>(lws_get_opaque_user_data(wsi));
  if (!self) return 0;  // vhost-level or orphaned callbacks
  // Called by lws: nothing may throw past here (boundary.h). An exception
  // (std::bad_alloc) fails the connection.
  return Boundary(-1, [&] { return self->HandleLwsEvent(wsi, reason, in, len); });
}

int Connection::HandleLwsEvent(lws* wsi, lws_callback_reasons reason, void* in, size_t len) {
  if (reason != LWS_CALLBACK_WSI_DESTROY) wsi_ = wsi;
  // After abort(), lws is to go no further with this connection.
  if (aborted_ && (reason == LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER || reason == LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP ||
                   reason == LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH ||
                   reason == LWS_CALLBACK_CLIENT_ESTABLISHED || reason == LWS_CALLBACK_CLIENT_RECEIVE ||
                   reason == LWS_CALLBACK_CLIENT_WRITEABLE || reason == kFrameLength))
    return -1;
  // As an int: lws_hooks.h's reasons are not in lws's enum.
  switch (static_cast<int>(reason)) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
      // The socket is connected (and TLS negotiated): the upgrade goes out.
      phase_ = Phase::kHandshake;
      if (report_connected_) Notify(EventBatch::Kind::kConnected);
      return AppendHeaders(static_cast<unsigned char**>(in), *static_cast<unsigned char**>(in) + len);

    case kClosePrepared:
      // lws fails the connection with this close frame (a protocol error,
      // invalid UTF-8, a refused frame).
      if (!closing_.sent && len >= 2) {
        const auto* payload = static_cast<const unsigned char*>(in);
        closing_.Fail(static_cast<uint16_t>((payload[0] << 8) | payload[1]),
                      std::string(reinterpret_cast<const char*>(payload) + 2, len - 2));
      }
      return 0;

    case kPingReceived:
      OnPing(static_cast<const unsigned char*>(in), len);
      return 0;

    case kFrameLength:
      return OnFrameLength(len);

    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
      // The response is in, and lws has not acted on it: for a 101 it goes
      // on to set up the extensions the server named, and only then asks
      // FILTER_PRE_ESTABLISH. What the server may select is checked here
      // (handshake_check.h); a refusal fails the connection with its reason.
      if (lws_http_client_http_response(wsi) != 101) return 0;
      handshake_refusal_ = CheckSubprotocol(protocols_, HeaderValue(wsi, WSI_TOKEN_PROTOCOL));
      if (handshake_refusal_.empty())
        handshake_refusal_ = CheckExtensions(deflate_offer_, HeaderValue(wsi, WSI_TOKEN_EXTENSIONS));
      return handshake_refusal_.empty() ? 0 : -1;

    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
      // The response headers are gone by CLIENT_ESTABLISHED: keep what the
      // server accepted now.
      negotiated_.protocol = HeaderValue(wsi, WSI_TOKEN_PROTOCOL);
      negotiated_.extensions = HeaderValue(wsi, WSI_TOKEN_EXTENSIONS);
      return 0;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      OnEstablished();
      return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
      last_valid_us_ = lws_now_usecs();
      return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:
      return OnReceive(static_cast<const unsigned char*>(in), len);

    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return OnWritable();

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      return OnPeerClose(static_cast<const unsigned char*>(in), len);

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      // A refused upgrade's status line and headers are still there: they
      // go to JavaScript with the failure (a redirect's Location among them).
      negotiated_.refusal = ReadHttpAnswer(wsi);
      if (!handshake_refusal_.empty()) {
        FinishFailed(handshake_refusal_, PhaseOf(phase_));
        return 0;
      }
      ConnectError error = DescribeConnectError(wsi, static_cast<const char*>(in), PhaseOf(phase_));
      FinishFailed(error.cause, error.phase, error.verify_result);
      return 0;
    }

    case LWS_CALLBACK_CLIENT_CLOSED:
      OnClosed();
      return 0;

    case LWS_CALLBACK_WSI_DESTROY:
      wsi_ = nullptr;
      FinishFailed("connection closed", PhaseOf(phase_));
      return 0;

    default:
      return 0;
  }
}

int Connection::AppendHeaders(unsigned char** position, unsigned char* end) {
  for (size_t i = 0; i + 1 < headers_.size(); i += 2) {
    const std::string& name = headers_[i];
    const std::string& value = headers_[i + 1];
    if (lws_add_http_header_by_name(wsi_, reinterpret_cast<const unsigned char*>(name.c_str()),
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), position, end))
      return -1;
  }
  return 0;
}

// lws closed the connection: what the closing handshake saw says how it ended.
void Connection::OnClosed() {
  // lws sends what it holds of our last write before a close frame of its
  // own (an echo of the server's); what it still holds now was not sent.
  send_.Settle(wsi_);
  switch (closing_.outcome()) {
    case ClosingHandshake::Outcome::kClean:
      FinishClosed(closing_.code, closing_.reason, CloseInitiator::kLocal);
      return;
    case ClosingHandshake::Outcome::kFailedByUs:
      // Not clean: the server broke a rule and we did not wait for its answer.
      FinishClosed(closing_.code, closing_.reason, CloseInitiator::kFailed);
      return;
    case ClosingHandshake::Outcome::kRemote:
      FinishClosed(closing_.peer_code, closing_.peer_reason, CloseInitiator::kRemote);
      return;
    case ClosingHandshake::Outcome::kUnanswered:
      // A close is clean only once the server answered it (RFC 6455 7.1.1).
      if (closing_.ack_timed_out(kCloseAckSeconds))
        FinishFailed("timed out: no close frame from the server within " + std::to_string(kCloseAckSeconds) +
                         " s of ours",
                     FailurePhase::kTimeout);
      else
        FinishFailed("the connection ended before the server answered our close frame", FailurePhase::kOpen);
      return;
    case ClosingHandshake::Outcome::kDropped:
      break;
  }
  // lws hangs up silently when ping_timeout passes without a pong; it tells
  // no callback why, so the clock does.
  lws_usec_t hangup_us = static_cast<lws_usec_t>(retry_policy_.secs_since_valid_hangup) * LWS_US_PER_SEC;
  if (hangup_us && lws_now_usecs() - last_valid_us_ >= hangup_us - LWS_US_PER_SEC / 2) {
    FinishFailed("no pong from the server within ping_timeout (" +
                     std::to_string(retry_policy_.secs_since_valid_hangup) + " s)",
                 FailurePhase::kTimeout);
    return;
  }
  FinishClosed(LWS_CLOSE_STATUS_ABNORMAL_CLOSE, "", CloseInitiator::kNone);
}

int Connection::OnPeerClose(const unsigned char* payload, size_t len) {
  // lws goes on parsing after a close frame; only the first one counts.
  if (closing_.received || (closing_.failing && closing_.sent)) return closing_.sent ? -1 : 0;
  if (!ClosingHandshake::ValidPeerPayload(payload, len)) {
    // lws echoes a 1-byte payload, 1015 and codes above 4999 as they came;
    // they are protocol errors (RFC 6455 7.4), answered with 1002.
    closing_.Fail(LWS_CLOSE_STATUS_PROTOCOL_ERR);
    lws_close_reason(wsi_, LWS_CLOSE_STATUS_PROTOCOL_ERR, nullptr, 0);
    return -1;
  }
  closing_.Received(payload, len);
  // Our own close frame already went out: this is its answer, and the
  // handshake is complete. Otherwise lws echoes the server's, once it has
  // sent what it holds of ours (whole frames: the echo cannot land inside
  // one). Nothing else of ours may follow (RFC 6455 5.5.1): what is queued
  // stays counted in bufferedAmount, as not sent.
  return closing_.sent ? -1 : 0;
}

void Connection::OnPing(const unsigned char* payload, size_t len) {
  if (closing_.sent || closing_.received) return;  // nothing may follow a close frame
  send_.AppendPong(payload, len);
  ScheduleFlush();
}

void Connection::OnEstablished() {
  phase_ = Phase::kOpen;
  last_valid_us_ = lws_now_usecs();
  if (!negotiated_.extensions.empty()) {
    send_.UseDeflate();
    // lws deflates into a 1 KiB buffer and sends each fill as a fragment:
    // 64 KiB fragments keep a large message within peers' fragment limits
    // (ws: 16384 per message, so 16 MiB at 1 KiB).
    lws_set_extension_option(wsi_, "permessage-deflate", "tx_buf_size", "16");
  }
  // Its payload is read from negotiated_.
  Notify(EventBatch::Kind::kOpen);
}

int Connection::OnReceive(const unsigned char* data, size_t len) {
  bool first = !rx_active_;
  bool final = lws_is_final_fragment(wsi_);
  if (first) rx_binary_ = lws_frame_is_binary(wsi_);
  rx_active_ = !final;
  if (rx_refused_) return 0;
  if (rx_.size() + len > max_message_size_) {
    RefuseMessage("");
    return 0;
  }
  if (!rx_binary_ && rx_.size() + len > kMaxStringLength) {
    RefuseMessage("text message longer than a JavaScript string can be");
    return 0;
  }
  if (first && final) {
    // The whole message in one piece (most are): no reassembly.
    if (Collecting()) {
      events_.AddMessage(*state_, rx_binary_, data, len);
      MarkPending();
    }
    return 0;
  }
  if (first) {
    // The frame's length is known: one allocation instead of a doubling
    // series. It is the server's claim, so only up to 1 MiB of it is taken
    // on trust.
    size_t frame = len + lws_remaining_packet_payload(wsi_);
    rx_.reserve(std::min<size_t>(frame, kTrustedFrameLength));
  }
  rx_.append(reinterpret_cast<const char*>(data), len);
  if (final) {
    if (Collecting()) {
      events_.AddMessage(*state_, rx_binary_, std::move(rx_));
      MarkPending();
    }
    std::string().swap(rx_);  // an idle connection keeps no reassembly buffer
  }
  return 0;
}

// A frame declares its length before its payload comes: one that cannot fit
// max_message_size is refused at once (the 1009 close goes out now, and what
// arrives of the frame is dropped) rather than after it arrived. With
// permessage-deflate the frame's length is compressed; inflated, a message
// is not shorter than its compressed form by more than deflate's block
// overhead, allowed for here.
int Connection::OnFrameLength(size_t length) {
  if (rx_refused_) return 0;
  size_t limit = max_message_size_;
  if (send_.deflate()) limit += limit / 64 + 1024;
  if (rx_.size() + length > limit) RefuseMessage("");
  return 0;
}

void Connection::RefuseMessage(const char* reason) {
  // A closing handshake with 1009 (RFC 6455 7.4.1), after what is already
  // queued; nothing more that arrives is delivered.
  rx_refused_ = true;
  std::string().swap(rx_);
  RequestClose(LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, reason, true);
}

int Connection::OnWritable() {
  if (!WriteQueued(true)) return -1;
  if (!send_.empty() || !closing_.requested || closing_.sent) return 0;
  unsigned char frame[LWS_PRE + 125];
  size_t length = closing_.Payload(frame + LWS_PRE);
  closing_.Sent();
  if (lws_write(wsi_, frame + LWS_PRE, length, kWriteClose) < 0) return -1;
  lws_set_timeout(wsi_, PENDING_TIMEOUT_CLOSE_ACK, kCloseAckSeconds);
  return 0;
}

// What the send queue holds goes to lws, unless a close frame already went
// either way (RFC 6455 5.5.1): then it stays counted in bufferedAmount, as
// not sent.
bool Connection::WriteQueued(bool writable) {
  if (closing_.sent || closing_.received) return true;
  SendQueue::Progress progress = send_.Write(wsi_, writable);
  if (progress == SendQueue::Progress::kFailed) return false;
  if (progress == SendQueue::Progress::kWaiting) lws_callback_on_writable(wsi_);
  CheckDrained();
  return true;
}

void Connection::ScheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  state_->ScheduleFlush(this);
}

// Everything JavaScript queued since the last flush goes out in one write
// where the socket takes it, without first waiting for epoll to report the
// socket writable: one send() for a whole burst of messages.
void Connection::Flush() {
  flush_scheduled_ = false;
  if (!wsi_ || phase_ != Phase::kOpen) return;
  if (!WriteQueued(false)) lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
  // The close frame waits for the queue to empty: a writable event sends it.
  if (closing_.requested && !closing_.sent && send_.empty()) lws_callback_on_writable(wsi_);
}

size_t Connection::BufferedAmount() const { return send_.buffered(); }

void Connection::CheckDrained() {
  if (drain_watched_ && BufferedAmount() <= drain_threshold_) {
    drain_watched_ = false;
    Notify(EventBatch::Kind::kDrained);
  }
}

bool Connection::Collecting() const { return state_ && !state_->closing(); }

void Connection::MarkPending() {
  if (pending_) return;
  pending_ = true;
  state_->MarkPending(this);
}

void Connection::Notify(EventBatch::Kind kind) {
  if (!Collecting()) return;
  events_.Add(kind);
  MarkPending();
}

void Connection::FinishClosed(uint16_t code, const std::string& reason, CloseInitiator initiator) {
  Finish(EventBatch::Kind::kClosed, code, reason, static_cast<uint32_t>(initiator));
}

void Connection::FinishFailed(const std::string& cause, FailurePhase phase, long verify_result) {
  Finish(EventBatch::Kind::kFailed, static_cast<uint32_t>(verify_result), cause, static_cast<uint32_t>(phase));
}

// The connection's final event.
void Connection::Finish(EventBatch::Kind kind, uint32_t code, const std::string& text, uint32_t tag) {
  if (phase_ == Phase::kFinished) return;
  phase_ = Phase::kFinished;
  if (Collecting()) {
    events_.AddFinal(*state_, kind, code, text, tag);
    MarkPending();
  }
  if (state_) {
    // Its vhost may be freed once idle: lws still closing this connection
    // then frees it after (Context::FreeIdleVhosts).
    if (vhost_) state_->context().Release(vhost_key_);
    state_->ConnectionEnded();
  }
}

void Connection::Deliver() {
  pending_ = false;
  bool whole = events_.Deliver(Env(), state_, negotiated_, [this](size_t argc, napi_value* argv, bool final) {
    return CallJavaScript(argc, argv, final);
  });
  if (!whole && CanSend()) {
    // V8 would not make the string. OnReceive refuses a text message past
    // V8's longest string before it is queued, so this is the backstop: the
    // message is lost, and the connection says so with 1009.
    RequestClose(LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "text message longer than a JavaScript string can be", true);
    state_->loop().Kick();
  }
}

bool Connection::CallJavaScript(size_t argc, napi_value* argv, bool final) {
  // Nothing reaches JS after the final event (its callback is released), nor
  // once the environment is found terminating.
  if (on_events_.IsEmpty() || !state_ || !state_->js().running()) return false;
  state_->js().Call(Value(), on_events_.Value(), argc, argv);
  if (final && !released_) {
    released_ = true;
    on_events_.Reset();
    Unref();
  }
  return true;
}

bool Connection::CanSend() const { return wsi_ && !closing_.requested && phase_ != Phase::kFinished; }

Napi::Value Connection::SendText(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  if (!CanSend()) return Napi::Boolean::New(env, false);
  napi_value text = info[0];
  size_t length = 0;
  napi_get_value_string_utf8(env, text, nullptr, 0, &length);
  send_.AppendText(length, [&](unsigned char* payload) {
    // napi writes a terminating NUL after the text: AppendText has room.
    napi_get_value_string_utf8(env, text, reinterpret_cast<char*>(payload), length + 1, nullptr);
  });
  ScheduleFlush();
  return Napi::Boolean::New(env, true);
}

Napi::Value Connection::SendBinary(const Napi::CallbackInfo& info) {
  if (!CanSend()) return Napi::Boolean::New(info.Env(), false);
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  send_.AppendBinary(bytes.Data(), bytes.ByteLength());
  ScheduleFlush();
  return Napi::Boolean::New(info.Env(), true);
}

// ping(payload): a ping frame, ahead of queued messages. JS checked the
// payload's size (a control frame carries at most 125 bytes).
Napi::Value Connection::Ping(const Napi::CallbackInfo& info) {
  if (!CanSend()) return Napi::Boolean::New(info.Env(), false);
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  send_.AppendPing(bytes.Data(), bytes.ByteLength());
  ScheduleFlush();
  return Napi::Boolean::New(info.Env(), true);
}

// close(code, reason): code 1005 sends a close frame without a status.
Napi::Value Connection::Close(const Napi::CallbackInfo& info) {
  if (!CanSend()) return Napi::Boolean::New(info.Env(), false);
  std::string reason = info[1].As<Napi::String>().Utf8Value();
  reason.resize(std::min<size_t>(reason.size(), 123));  // JS already cut it
  RequestClose(static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value()), std::move(reason));
  state_->loop().Kick();
  return Napi::Boolean::New(info.Env(), true);
}

void Connection::RequestClose(uint16_t code, std::string reason, bool failing) {
  if (!closing_.Request(code, std::move(reason), failing)) return;
  // The answer to our close must be read even if JS paused delivery
  // (JS still holds any messages that come before it).
  lws_rx_flow_control(wsi_, 1);
  lws_callback_on_writable(wsi_);
}

// setPaused(paused): stops or resumes reading from the socket.
Napi::Value Connection::SetPaused(const Napi::CallbackInfo& info) {
  if (wsi_ && state_) {
    lws_rx_flow_control(wsi_, info[0].As<Napi::Boolean>().Value() && !closing_.requested ? 0 : 1);
    state_->loop().Kick();  // resuming may leave buffered input to service
  }
  return info.Env().Undefined();
}

// abort(): drops the connection without a closing handshake; it ends with
// a Failed event like any connection that could not be completed.
Napi::Value Connection::Abort(const Napi::CallbackInfo& info) {
  if (state_ && phase_ == Phase::kQueued) {
    // Not started yet: it never will be.
    aborted_ = true;
    FinishFailed("aborted before it connected", PhaseOf(phase_));
    state_->loop().Kick();
  } else if (wsi_ && state_ && phase_ != Phase::kFinished) {
    aborted_ = true;
    // Closed now, outside lws: an asynchronous kill is a timeout, which lws
    // replaces with its own as soon as the connect or handshake moves on.
    // The close callbacks only record; the Kick delivers what they queued.
    if (state_->loop().InsideLws())
      lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    else
      lws_set_timeout(wsi_, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    state_->loop().Kick();
  }
  return info.Env().Undefined();
}

Napi::Value Connection::GetBufferedAmount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(BufferedAmount()));
}

// watchDrain(threshold): true if no more than `threshold` bytes are queued;
// otherwise a Drained event comes once that is so.
Napi::Value Connection::WatchDrain(const Napi::CallbackInfo& info) {
  size_t threshold = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  bool drained = BufferedAmount() <= threshold;
  drain_watched_ = !drained && wsi_ && phase_ != Phase::kFinished;
  drain_threshold_ = threshold;
  return Napi::Boolean::New(info.Env(), drained);
}

}  // namespace lwsnode
