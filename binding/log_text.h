// lws's log lines quote what a server sent (a status line, an Upgrade or
// Sec-WebSocket-Extensions header, an Accept value) byte for byte. Written
// to a terminal as they are, a server's escape sequences would recolour it,
// retitle it, move the cursor or forge lines. Every line the addon writes to
// stderr or hands to a Logger goes through here first.
#pragma once

#include <cstddef>
#include <string>

namespace lwsnode {

// `text` with every control character written as \xNN: C0 (0x00-0x1f, tab
// and newline included), DEL, and C1 (U+0080-U+009F, each byte of its UTF-8
// form), plus every byte that is not part of well-formed UTF-8. Printable
// UTF-8 is kept as it is.
std::string EscapeLogText(const char* text, size_t length);

// lws's process-wide log emitter (lws_set_log_level): the line, escaped, to
// stderr, with lws's trailing newline.
void EmitLogLineToStderr(int level, const char* line);

}  // namespace lwsnode
