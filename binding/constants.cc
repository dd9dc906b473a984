// Constants with lws's own values, so JavaScript never restates a number
// that lws defines.
#include <libwebsockets.h>

#include <initializer_list>
#include <utility>

#include "addon.h"
#include "log_text.h"
#include "vocabulary.h"

namespace lwsnode {

namespace {

void SetLogLevelTo(int mask) { lws_set_log_level(mask, EmitLogLineToStderr); }

// { name: value, ... } for one of vocabulary.h's enums.
template <typename Enum>
Napi::Object Names(Napi::Env env, std::initializer_list<std::pair<const char*, Enum>> entries) {
  Napi::Object names = Napi::Object::New(env);
  for (const auto& [name, value] : entries) names.Set(name, Napi::Number::New(env, static_cast<uint32_t>(value)));
  return names;
}

}  // namespace

Napi::Object Vocabulary(Napi::Env env) {
  Napi::Object vocabulary = Napi::Object::New(env);
  vocabulary.Set("EventKind", Names<EventKind>(env, {
                                                        {"Open", EventKind::kOpen},
                                                        {"Text", EventKind::kText},
                                                        {"Binary", EventKind::kBinary},
                                                        {"Closed", EventKind::kClosed},
                                                        {"Failed", EventKind::kFailed},
                                                        {"Connected", EventKind::kConnected},
                                                        {"Drained", EventKind::kDrained},
                                                    }));
  vocabulary.Set("FailurePhase", Names<FailurePhase>(env, {
                                                              {"setup", FailurePhase::kSetup},
                                                              {"connect", FailurePhase::kConnect},
                                                              {"tls", FailurePhase::kTls},
                                                              {"handshake", FailurePhase::kHandshake},
                                                              {"open", FailurePhase::kOpen},
                                                              {"timeout", FailurePhase::kTimeout},
                                                          }));
  vocabulary.Set("CloseInitiator", Names<CloseInitiator>(env, {
                                                                  {"local", CloseInitiator::kLocal},
                                                                  {"remote", CloseInitiator::kRemote},
                                                                  {"failed", CloseInitiator::kFailed},
                                                                  {"none", CloseInitiator::kNone},
                                                              }));
  return vocabulary;
}

Napi::Object Constants(Napi::Env env) {
  Napi::Object constants = Napi::Object::New(env);
  auto set = [&](const char* name, int value) { constants.Set(name, Napi::Number::New(env, value)); };

#if defined(LWS_WITHOUT_EXTENSIONS)
  constants.Set("HAS_PMD", Napi::Boolean::New(env, false));
#else
  constants.Set("HAS_PMD", Napi::Boolean::New(env, true));
#endif
  constants.Set("LWS_VERSION", Napi::String::New(env, LWS_LIBRARY_VERSION));

  set("LCCSCF_USE_SSL", LCCSCF_USE_SSL);
  set("LCCSCF_ALLOW_SELFSIGNED", LCCSCF_ALLOW_SELFSIGNED);
  set("LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK", LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK);
  set("LCCSCF_ALLOW_EXPIRED", LCCSCF_ALLOW_EXPIRED);
  set("LCCSCF_ALLOW_INSECURE", LCCSCF_ALLOW_INSECURE);

  set("LLL_ERR", LLL_ERR);
  set("LLL_WARN", LLL_WARN);
  set("LLL_NOTICE", LLL_NOTICE);
  set("LLL_INFO", LLL_INFO);
  set("LLL_DEBUG", LLL_DEBUG);
  set("LLL_PARSER", LLL_PARSER);
  set("LLL_HEADER", LLL_HEADER);
  set("LLL_EXT", LLL_EXT);
  set("LLL_CLIENT", LLL_CLIENT);
  set("LLL_LATENCY", LLL_LATENCY);
  set("LLL_USER", LLL_USER);
  set("LLL_THREAD", LLL_THREAD);

  set("CLOSE_STATUS_NORMAL", LWS_CLOSE_STATUS_NORMAL);
  set("CLOSE_STATUS_GOINGAWAY", LWS_CLOSE_STATUS_GOINGAWAY);
  set("CLOSE_STATUS_PROTOCOL_ERR", LWS_CLOSE_STATUS_PROTOCOL_ERR);
  set("CLOSE_STATUS_UNACCEPTABLE_OPCODE", LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE);
  set("CLOSE_STATUS_RESERVED", LWS_CLOSE_STATUS_RESERVED);
  set("CLOSE_STATUS_NO_STATUS", LWS_CLOSE_STATUS_NO_STATUS);
  set("CLOSE_STATUS_ABNORMAL_CLOSE", LWS_CLOSE_STATUS_ABNORMAL_CLOSE);
  set("CLOSE_STATUS_INVALID_PAYLOAD", LWS_CLOSE_STATUS_INVALID_PAYLOAD);
  set("CLOSE_STATUS_POLICY_VIOLATION", LWS_CLOSE_STATUS_POLICY_VIOLATION);
  set("CLOSE_STATUS_MESSAGE_TOO_LARGE", LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE);
  set("CLOSE_STATUS_EXTENSION_REQUIRED", LWS_CLOSE_STATUS_EXTENSION_REQUIRED);
  set("CLOSE_STATUS_UNEXPECTED_CONDITION", LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
  return constants;
}

Napi::Value SetLogLevel(const Napi::CallbackInfo& info) {
  SetLogLevelTo(static_cast<int>(info[0].As<Napi::Number>().Int32Value()));
  return info.Env().Undefined();
}

}  // namespace lwsnode
