// The callback reasons tools/lws-fixes.py adds to lws: it calls the
// protocol callback with these where lws 4.3.5 tells it nothing.
#pragma once

#include <libwebsockets.h>

namespace lwsnode {

// lws_close_reason() prepared this close payload (in, len): lws masks it in
// place when it sends it, so it cannot be read back afterwards.
constexpr auto kClosePrepared = LWS_CALLBACK_USER;

// A ping arrived (in, len: its payload). lws does not answer it: the
// binding's send queue does, between frames.
constexpr auto kPingReceived = static_cast<lws_callback_reasons>(LWS_CALLBACK_USER + 1);

// A data frame's header declares `len` payload bytes (16- and 64-bit
// lengths only). Non-zero fails the connection at once.
constexpr auto kFrameLength = static_cast<lws_callback_reasons>(LWS_CALLBACK_USER + 2);

}  // namespace lwsnode
