// Linux, macOS and the other POSIX systems: getsockopt and strerror.
#include "socket_error.h"

#include <sys/socket.h>

#include <cstring>

namespace lwsnode {

std::string PendingSocketError(lws_sockfd_type fd) {
  int error = 0;
  socklen_t size = sizeof error;
  if (fd == LWS_SOCK_INVALID || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || !error) return {};
  return std::strerror(error);
}

}  // namespace lwsnode
