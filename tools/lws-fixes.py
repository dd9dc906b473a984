#!/usr/bin/env python3
"""Our fixes to the pinned lws 4.3.5, applied to a copy of its source tree.

lws's client frame parser fails the connection on most protocol violations
by dropping the socket without a close frame, where RFC 6455 7.1.7 asks the
client to send one (1002 Protocol Error, 1007 for a close reason that is not
UTF-8), and it lets a server set RSV bits that permessage-deflate leaves
undefined (RFC 7692 6.1). A long text frame with invalid UTF-8 early in it
overflows the receive buffer (found by test/fuzz.test.ts). When lws fails a
connection with a close code, it masks that code in place as it sends it,
so a client cannot read it back: lws_close_reason() is made to tell the
protocol callback (LWS_CALLBACK_USER) the payload it prepared. lws answers
a ping itself, at its next chance to write, even in the middle of a frame
the binding handed it in pieces, and drops every ping that arrives while a
pong is pending: a received ping goes to the protocol callback instead
(LWS_CALLBACK_USER + 1), which queues the pong where frames end. A frame's
declared length is told to the callback too (LWS_CALLBACK_USER + 2), which
can refuse a frame larger than max_message_size before its bytes come. A
protocol error in frames that came with the 101 killed the socket before
lws sent its close frame (it parsed the same bytes twice), and so did one
that came while lws held part of a write (it flushed, then killed). The TLS
client checks an IPv6 literal host against the name "[" instead of the
address, sends an IP literal as the server name (SNI), which RFC 6066
forbids, and failed host names longer than ~121 characters (a 128-byte
buffer). A server naming an extension twice made lws set it up past its
arrays' end. Inflating a message whose last match straddled its 1 KiB
output buffer, lws cut the message short and inflated the next ones out of
step (a 1007 close, "invalid stored block lengths"). Two fixes are for
speed: lws keeps its timers in a sorted list and walks it from the head on
every insert, though nearly every new deadline is the latest (with
thousands of connections that walk took a fifth of the time to open them);
and its client parser takes every payload byte through its state machine,
which was half the time of a 1 MiB echo.

Each fix names its spot by a line of lws that occurs there exactly once, and
adds one statement of ours (marked lws-node); the script stops if an anchor
is missing or not unique, so a different lws fails loudly.

Usage: lws-fixes.py <lws source tree>   (edits it in place)
"""
import pathlib
import sys

PARSER = "lib/roles/ws/client-parser-ws.c"
OPS = "lib/roles/ws/ops-ws.c"
TLS_CLIENT = "lib/tls/openssl/openssl-client.c"
LISTS = "lib/core/lws_dll2.c"
WS_CLIENT = "lib/roles/ws/client-ws.c"
CLOSE = "lib/core-net/close.c"
PMD = "lib/roles/ws/ext/extension-permessage-deflate.c"
MARK = "/* lws-node */"
PROTOCOL_ERROR = f"lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, NULL, 0); {MARK}"
# binding/lws_hooks.h names these reasons for the protocol callback.
CALLBACK = "wsi->a.protocol && wsi->a.protocol->callback"
PING_RECEIVED = "(enum lws_callback_reasons)(LWS_CALLBACK_USER + 1)"
FRAME_LENGTH = "(enum lws_callback_reasons)(LWS_CALLBACK_USER + 2)"
# The callback decides about a long frame once its length is complete; a
# non-zero answer fails the connection (with the close code it set).
CHECK_LENGTH = (f"if ({CALLBACK} && wsi->a.protocol->callback(wsi, {FRAME_LENGTH}, wsi->user_space, NULL,"
                f" wsi->ws->rx_packet_length)) return -1; {MARK}")
INVALID_PAYLOAD = f"lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, NULL, 0); {MARK}"

# (file, anchor, statement): the statement goes on the line after the
# anchor. In the parser the anchors are lws's log lines just before it gives
# up with `return -1`.
AFTER = [
    (PARSER, '"disordered continuation");', PROTOCOL_ERROR),             # continuation without a start
    (PARSER, '"illegal opcode");', PROTOCOL_ERROR),                      # reserved opcodes 3-7, 0xb-0xf
    (PARSER, '"illegal rsv bits set");', PROTOCOL_ERROR),                # RSV bits, no extension
    (PARSER, '"hey you owed us a FIN");', PROTOCOL_ERROR),               # new message inside a fragmented one
    (PARSER, '"control msg can\'t be fragmented");', PROTOCOL_ERROR),    # control frame with FIN clear
    (PARSER, '"b63 of length must be zero");', PROTOCOL_ERROR),          # 64-bit length with the top bit set
    (PARSER, '"Control frame asking for extended length is illegal");', PROTOCOL_ERROR),  # control frame > 125 bytes
    # lws takes the certificate name from the Host header and cuts it at the
    # first ':' (the port), which leaves "[" of "[::1]:443". An IPv6 literal
    # is the address inside the brackets; the loop that cuts then starts at
    # its end and has nothing to do.
    (TLS_CLIENT, "p = hostname;",
     "if (hostname[0] == '[' && strchr(hostname, ']')) { *strchr(hostname, ']') = '\\0';"
     f" memmove(hostname, hostname + 1, strlen(hostname)); p = hostname + strlen(hostname); }} {MARK}"),
    (OPS, "wsi->ws->close_in_ping_buffer_len = (uint8_t)lws_ptr_diff(p, start);",
     "if (wsi->a.protocol && wsi->a.protocol->callback) wsi->a.protocol->callback(wsi, LWS_CALLBACK_USER,"
     f" wsi->user_space, start, wsi->ws->close_in_ping_buffer_len); {MARK}"),
    # A connection failed while lws still held part of a write flushes that
    # first, then was killed without the close frame it had prepared: now
    # the frame goes out after the flush, as it would have without one.
    (CLOSE, '" end LRS_FLUSHING_BEFORE_CLOSE");',
     f"if (lwsi_role_ws(wsi) && wsi->ws && wsi->ws->close_in_ping_buffer_len) break; {MARK}"),
    # Compressed data that does not inflate dropped the socket without a
    # close frame; RFC 7692 8.2.3.1 asks to fail the connection, and 1007
    # (the payload is not what its frame says) is what ws sends.
    (PARSER, 'lwsl_wsi_ext(wsi, "Ext RX returned %d", n);',
     f"if (n < 0) {{ lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, NULL, 0); return -1; }} {MARK}"),
    (PARSER, "wsi->ws->rx_packet_length |= c;", CHECK_LENGTH),           # 16-bit length
    (PARSER, "wsi->ws->rx_packet_length |= (size_t)c;", CHECK_LENGTH),   # 64-bit length
]

# (file, anchor, statement): the statement goes on the line before the anchor.
BEFORE = [
    # Frames that came in the same read as the 101 wait in the connection's
    # input buffer. When one of them fails the connection, lws prepares its
    # close frame and waits to send it, but leaves the input where it was:
    # the next loop turn parses the same bytes again, fails again, and this
    # second close kills the socket before the close frame goes out. Once
    # the connection waits to send its close, its input is dropped.
    (OPS, "ebuf.len = (int)lws_buflist_next_segment_len(&wsi->buflist,",
     "if (lwsi_state(wsi) == LRS_WAITING_TO_SEND_CLOSE) { lws_buflist_destroy_all_segments(&wsi->buflist);"
     f" lws_dll2_remove(&wsi->dll_buflist); return LWS_HPI_RET_HANDLED; }} {MARK}"),
    # Every ping goes to the binding, whose send queue answers it between
    # frames; lws's own pong (one pending at most) is skipped.
    (PARSER, "/* he set a close reason on this guy, ignore PING */",
     f"if ({CALLBACK}) {{ wsi->a.protocol->callback(wsi, {PING_RECEIVED}, wsi->user_space,"
     f" &wsi->ws->rx_ubuf[LWS_PRE], wsi->ws->rx_ubuf_head); goto ping_drop; }} {MARK}"),
    # A text frame longer than the receive buffer with invalid UTF-8 in its
    # first buffer-full fails without emptying the buffer; lws goes on
    # reading (it awaits the close answer) and every further byte of the
    # frame would be stored past the buffer's end: a heap overflow a server
    # can trigger. Refuse to store outside the buffer.
    (PARSER, "wsi->ws->rx_ubuf[LWS_PRE + (wsi->ws->rx_ubuf_head++)] = c;",
     f"if (wsi->ws->rx_ubuf_head + LWS_PRE >= wsi->ws->rx_ubuf_alloc) return -1; {MARK}"),
    # A sorted insert (lws's timers) first asks whether the newcomer goes
    # last, which it nearly always does: timeouts of one length are set in
    # the order they expire. Then it is appended at once, as the walk would.
    (LISTS, "if (compare(p, d) >= 0) {",
     f"if (p == own->head && compare(own->tail, d) < 0) break; {MARK}"),
    # The client parser takes every payload byte through its state machine
    # (a call, a switch, a store and two tests each): 54% of a 1 MiB echo's
    # time. Bytes that neither end the frame nor fill the receive buffer
    # need none of it and are copied in one go; the byte that does goes the
    # usual way, so the parser spills (and checks UTF-8, inflates, answers
    # control frames) exactly as before. Masked frames (a protocol error
    # from a server, which the parser reports) take the byte path too.
    (WS_CLIENT, "if (lws_ws_client_rx_sm(wsi, *(*buf)++)) {",
     "if (wsi->lws_rx_parse_state == LWS_RXPS_WS_FRAME_PAYLOAD && !wsi->ws->this_frame_masked &&"
     " wsi->a.protocol->rx_buffer_size && wsi->ws->rx_packet_length > 1 &&"
     " (size_t)wsi->ws->rx_ubuf_head + 1 < wsi->a.protocol->rx_buffer_size) {"
     " size_t n = wsi->ws->rx_packet_length - 1, room = wsi->a.protocol->rx_buffer_size - 1 - wsi->ws->rx_ubuf_head;"
     " if (n > room) n = room; if (n > len) n = len;"
     " memcpy(wsi->ws->rx_ubuf + LWS_PRE + wsi->ws->rx_ubuf_head, *buf, n);"
     " wsi->ws->rx_ubuf_head += (uint32_t)n; wsi->ws->rx_packet_length -= n; *buf += n; len -= n; continue; }"
     f" {MARK}"),
    # ... and empty it when UTF-8 validation fails.
    (PARSER, '(wsi, "utf8 error");', f"wsi->ws->rx_ubuf_head = 0; {MARK}"),
    # With an extension active lws accepts any RSV bits. permessage-deflate
    # defines RSV1 alone, on the first frame of a data message.
    (PARSER, "wsi->ws->final = !!((c >> 7) & 1);",
     "if (wsi->ws->rsv && ((wsi->ws->rsv & ~0x40) || (wsi->ws->opcode & 8) ||"
     f" wsi->ws->opcode == LWSWSOPC_CONTINUATION)) {{ {PROTOCOL_ERROR} return -1; }}"),
    # A 101 naming an extension twice ("permessage-deflate,
    # permessage-deflate") set it up twice into arrays with room for one (a
    # heap overflow a server can trigger). The binding refuses such an answer
    # before lws gets here (binding/handshake_check.h); this keeps lws itself
    # from writing past the arrays, as upstream's b0073c76d ("ws-ext:
    # problems around multi extensions", v5.0) does.
    (WS_CLIENT, "wsi->ws->active_extensions[wsi->ws->count_act_ext] = ext;",
     "if (wsi->ws->count_act_ext >= LWS_ARRAY_SIZE(wsi->ws->active_extensions)) {"
     f' *cce = "HS: EXT: more extensions than lws can hold"; goto bail2; }} {MARK}'),
    # At a compressed message's end lws gives zlib the stripped 00 00 ff ff
    # with 5 bytes of spare output room ("trailer apply 2") and calls the
    # message final. When lws's 1 KiB output buffer filled inside the
    # message's last match, zlib still owes the rest of it (and of any
    # symbols in the last input byte's bits: 512 bytes from Python's websockets)
    # and does not get to the trailer: the message was cut short at a
    # multiple of 1024 plus 5, and the unread trailer stayed as zlib's input,
    # so the next message's own bytes were skipped (it got the owed bytes);
    # the trailer, given again, then had zlib take a stored block's lengths
    # from 00 ff ff and the following message's first byte: 1007, "invalid
    # stored block lengths". Zero-filled binary messages of 65542..65545
    # bytes from ws did it every time. Now an unread trailer means the
    # message is not over: lws is told there is more to drain, and the next
    # call, finding the trailer still there, finishes it as the final one.
    # (Not fixed upstream as of v5.0; its 6a2542ded, "protect against rx
    # underflow", guards against the unread-trailer state Coverity found,
    # without preventing it.)
    (PMD, "if (!priv->rx.avail_in && pmdrx->eb_in.token && pmdrx->eb_in.len) {",
     "if (priv->rx.avail_in && priv->rx.next_in + priv->rx.avail_in == trail + sizeof(trail)) { was_fin = 1;"
     f" pmdrx->eb_in.token = priv->rx.next_in; pmdrx->eb_in.len = (int)priv->rx.avail_in; }} {MARK}"),
    (PMD, "if (was_fin) {",
     f"if (was_fin && priv->rx.avail_in) {{ wsi->ws->pmd_trailer_application = 1; return PMDR_HAS_PENDING; }} {MARK}"),
]

# (file, old, new): replaced within the one line that contains `old`.
REPLACE = [
    # The TLS client copies the Host header ("name:port") into a 128-byte
    # buffer to name the server (SNI and the certificate check): with a
    # 5-digit port a name of more than 121 characters did not fit, and the
    # connection failed with "bio_create failed". DNS names run to 253
    # characters (RFC 1035 2.3.4); room for that, a trailing dot, IPv6
    # brackets, ":65535" and the NUL.
    (TLS_CLIENT, "char hostname[128], *p;", f"char hostname[264], *p; {MARK}"),
    # lws sent whatever host the URL had as the server name. RFC 6066 3:
    # "Literal IPv4 and IPv6 addresses are not permitted in HostName." By
    # here an IPv6 literal has lost its brackets (the fix after "p =
    # hostname;"), so inet_pton sees the bare address.
    (TLS_CLIENT, "SSL_set_tlsext_host_name(wsi->tls.ssl, hostname);",
     "{ struct in6_addr ip; if (inet_pton(AF_INET, hostname, &ip) != 1 && inet_pton(AF_INET6, hostname, &ip) != 1)"
     f" SSL_set_tlsext_host_name(wsi->tls.ssl, hostname); }} {MARK}"),
    # With permessage-deflate negotiated, an uncompressed text frame that
    # ends inside a character was passed on (as U+FFFD in JS) instead of
    # failing with 1007: the extension answers "nothing to do" for it.
    (PARSER, "&& (n == PMDR_EMPTY_FINAL || n == PMDR_UNKNOWN)",
     "&& (n == PMDR_EMPTY_FINAL || n == PMDR_UNKNOWN || n == PMDR_NOTHING_WE_SHOULD_DO) " + MARK),
]

# A close reason that is not UTF-8 jumps to the failure path with no close
# code set. The anchor ends that jump's condition; the jump, the next line,
# becomes a block that sets 1007 first.
CONDITION_END = (PARSER, "wsi->ws->rx_ubuf_head - 2))")
JUMP = "goto utf8_fail;"


def find_unique(name, lines, anchor):
    hits = [index for index, line in enumerate(lines) if anchor in line]
    if len(hits) != 1:
        sys.exit(f"lws-fixes: expected one line containing {anchor!r} in {name}, found {len(hits)}")
    return hits[0]


def main():
    tree = pathlib.Path(sys.argv[1])
    files = {name: (tree / name).read_text().split("\n") for name in (PARSER, OPS, TLS_CLIENT, LISTS, WS_CLIENT, CLOSE, PMD)}
    if any(MARK in line for lines in files.values() for line in lines):
        sys.exit(f"lws-fixes: {tree} is already fixed; give a pristine copy")
    inserts = {name: [] for name in files}  # (index, statement): insert before lines[index]
    for name, anchor, statement in AFTER:
        inserts[name].append((find_unique(name, files[name], anchor) + 1, statement))
    for name, anchor, statement in BEFORE:
        inserts[name].append((find_unique(name, files[name], anchor), statement))
    for name, old, replacement in REPLACE:
        index = find_unique(name, files[name], old)
        files[name][index] = files[name][index].replace(old, replacement)
    name, anchor = CONDITION_END
    lines = files[name]
    jump = find_unique(name, lines, anchor) + 1
    if lines[jump].strip() != JUMP:
        sys.exit(f"lws-fixes: expected {JUMP!r} after {anchor!r} in {name}")
    lines[jump] = lines[jump].replace(JUMP, "{ " + INVALID_PAYLOAD + " " + JUMP + " }")
    for name, lines in files.items():
        for index, statement in sorted(inserts[name], reverse=True):
            lines.insert(index, statement)
        (tree / name).write_text("\n".join(lines))


main()
