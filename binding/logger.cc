#include "logger.h"

#include "addon.h"
#include "boundary.h"
#include "env_state.h"
#include "log_text.h"

namespace lwsnode {

Napi::Function Logger::Define(Napi::Env env) { return DefineClass(env, "Logger", {}); }

Logger::Logger(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Logger>(info), state_(Addon::State(info.Env())) {
  log_context_.u.emit_cx = Emit;
  log_context_.opaque = this;
  log_context_.lll_flags = info[0].As<Napi::Number>().Uint32Value() | LLLF_LOG_CONTEXT_AWARE;
  callback_ = Napi::Persistent(info[1].As<Napi::Function>());
  state_->Register(this);
}

Logger::~Logger() {
  if (state_) state_->Unregister(this);
}

void Logger::Emit(lws_log_cx_t* context, int level, const char* line, size_t length) {
  // Called by lws: nothing may throw past here (boundary.h).
  Boundary([&] {
    auto* self = static_cast<Logger*>(context->opaque);
    if (!self->state_ || self->state_->closing()) return;
    // lws ends each line with a newline; the callback gets the text alone,
    // with a server's control bytes escaped (log_text.h).
    while (length && (line[length - 1] == '\n' || line[length - 1] == '\r')) length--;
    if (self->lines_.empty()) self->state_->MarkPending(self);
    self->lines_.emplace_back(level, EscapeLogText(line, length));
  });
}

void Logger::Deliver() {
  if (lines_.empty()) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  std::vector<std::pair<int, std::string>> lines;
  lines.swap(lines_);
  for (auto& [level, text] : lines) {
    if (!state_) return;
    napi_value argv[] = {Napi::Number::New(env, level), Napi::String::New(env, text)};
    state_->js().Call(Value(), callback_.Value(), 2, argv);
  }
}

}  // namespace lwsnode
