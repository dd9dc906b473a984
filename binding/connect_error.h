// Why a client connection failed, in words a user can act on, and where it
// was: lws's own text leaves out the socket error and names certificate
// problems by number only, and only OpenSSL's state tells a TLS failure
// from the others (lws's words for it vary with the step that failed).
#pragma once

#include <libwebsockets.h>

#include <string>

#include "vocabulary.h"

namespace lwsnode {

struct ConnectError {
  std::string cause;
  FailurePhase phase;
  // The certificate check's X509_V_ERR_* result when it refused the server
  // (cause: OpenSSL's words for it), else 0.
  long verify_result = 0;
};

// `lws_text` is what lws passed with LWS_CALLBACK_CLIENT_CONNECTION_ERROR;
// `phase` is where the connection was by its callbacks (connect or
// handshake), which a TLS failure overrides.
ConnectError DescribeConnectError(lws* wsi, const char* lws_text, FailurePhase phase);

}  // namespace lwsnode
