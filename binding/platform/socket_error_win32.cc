// Windows: Winsock's getsockopt, and the system's words for WSA error codes
// (strerror knows only the C library's errno values).
#include "socket_error.h"

#include <winsock2.h>
#include <windows.h>

namespace lwsnode {

std::string PendingSocketError(lws_sockfd_type fd) {
  int error = 0;
  int size = sizeof error;
  if (fd == LWS_SOCK_INVALID || getsockopt(fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&error), &size) != 0 ||
      !error)
    return {};
  char words[256];
  DWORD length = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                                static_cast<DWORD>(error), 0, words, sizeof words, nullptr);
  // The system's text ends in ".\r\n", where strerror's has nothing.
  while (length > 0 && (words[length - 1] == '\n' || words[length - 1] == '\r' || words[length - 1] == '.')) length--;
  if (length == 0) return "socket error " + std::to_string(error);
  return std::string(words, length);
}

}  // namespace lwsnode
