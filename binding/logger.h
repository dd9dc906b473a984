// A contextual lws logger (lws 4.3 log contexts): lws lines logged for the
// connections bound to it are collected and handed to its JavaScript
// callback after lws returns, never from inside lws.
#pragma once

#include <libwebsockets.h>
#include <napi.h>

#include <string>
#include <utility>
#include <vector>

#include "deliverable.h"

namespace lwsnode {

class EnvState;

class Logger : public Napi::ObjectWrap<Logger>, public Deliverable {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Logger(levelMask, callback(level, message))
  explicit Logger(const Napi::CallbackInfo& info);
  ~Logger() override;

  lws_log_cx_t* log_context() { return &log_context_; }

  void Deliver() override;
  void Detach() override { state_ = nullptr; }

 private:
  static void Emit(lws_log_cx_t* context, int level, const char* line, size_t length);

  EnvState* state_;
  lws_log_cx_t log_context_{};
  Napi::FunctionReference callback_;
  std::vector<std::pair<int, std::string>> lines_;
};

}  // namespace lwsnode
