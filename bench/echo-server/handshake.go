package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/gorilla/websocket"
)

// serveConn reads one HTTP request from conn, upgrades it with the
// upgrader `route` picks for its path, and echoes until the connection
// ends. net/http's server would do the same with more work per connection
// (a background read it must abort to let the connection be hijacked,
// state tracking, a second buffered reader): while a fast client opened
// 1,000 connections, that made the server half of the opening's time.
func serveConn(conn net.Conn, route func(path string) *websocket.Upgrader, readLimit int64) {
	reader := bufio.NewReaderSize(conn, 4<<10)
	request, err := http.ReadRequest(reader)
	if err != nil {
		conn.Close()
		return
	}
	response := &hijackable{conn: conn, reader: reader}
	ws, err := route(request.URL.Path).Upgrade(response, request, nil)
	if err != nil {
		response.send() // Upgrade has written its HTTP error into response.
		conn.Close()
		return
	}
	ws.SetReadLimit(readLimit)
	echo(ws)
}

// hijackable is the http.ResponseWriter and http.Hijacker gorilla's
// Upgrade needs: it hijacks on success, and writes an HTTP error otherwise.
type hijackable struct {
	conn     net.Conn
	reader   *bufio.Reader
	header   http.Header
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (h *hijackable) Header() http.Header {
	if h.header == nil {
		h.header = http.Header{}
	}
	return h.header
}

func (h *hijackable) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *hijackable) Write(p []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return h.body.Write(p)
}

// Hijack hands gorilla the connection and the reader the request came
// through (gorilla reads frames through it: no second buffer).
func (h *hijackable) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.hijacked = true
	return h.conn, bufio.NewReadWriter(h.reader, bufio.NewWriterSize(h.conn, 512)), nil
}

// send writes the error response gorilla composed, then the connection closes.
func (h *hijackable) send() {
	if h.hijacked || h.status == 0 {
		return
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\n", h.status, http.StatusText(h.status))
	h.Header().Set("Content-Length", strconv.Itoa(h.body.Len()))
	h.Header().Set("Connection", "close")
	h.Header().Write(&out)
	out.WriteString("\r\n")
	out.Write(h.body.Bytes())
	h.conn.Write(out.Bytes())
}
