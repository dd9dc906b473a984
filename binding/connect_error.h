// Why a client connection failed, in words a user can act on: lws's own text
// leaves out the socket error and names certificate problems by number only.
#pragma once

#include <libwebsockets.h>

#include <string>

namespace lwsnode {

// `lws_text` is what lws passed with LWS_CALLBACK_CLIENT_CONNECTION_ERROR.
std::string DescribeConnectError(lws* wsi, const char* lws_text);

}  // namespace lwsnode
