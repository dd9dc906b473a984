// The error pending on a socket (SO_ERROR) in words: one small file per
// platform implements it (socket_error_posix.cc, socket_error_win32.cc),
// chosen in CMakeLists.txt.
#pragma once

#include <libwebsockets.h>

#include <string>

namespace lwsnode {

// What went wrong on `fd` ("Connection refused"), or "" if nothing did or
// it cannot be asked.
std::string PendingSocketError(lws_sockfd_type fd);

}  // namespace lwsnode
