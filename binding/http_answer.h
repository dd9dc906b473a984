// What the server answered to the upgrade request when it was not a usable
// 101: its status line and headers, for ConnectionFailed's `response`. The
// server chooses every byte of them, so only so many headers are kept.
#pragma once

#include <libwebsockets.h>

#include <string>
#include <vector>

namespace lwsnode {

struct HttpAnswer {
  unsigned status = 0;      // 0: lws parsed no status line
  std::string status_text;  // the reason phrase: "Not Found"
  // Lower-case name, value, name, value ... A header sent more than once is
  // one entry, its values joined with ", " (as fetch's Headers.get() does).
  std::vector<std::string> headers;
};

// Read from LWS_CALLBACK_CLIENT_CONNECTION_ERROR: lws 4.3.5 keeps the
// response's header table until it closes the wsi, which comes after.
HttpAnswer ReadHttpAnswer(lws* wsi);

}  // namespace lwsnode
