// Command echo-server is the benchmark's WebSocket echo server: it sends
// every message back with its type (text or binary), on 127.0.0.1 only.
//
// It is written in Go, not JavaScript, so that the Node clients under test
// do not share an event loop, a runtime or a garbage collector with the
// server, and so that the server is fast enough not to be the bottleneck
// (the harness reports its CPU share to prove it).
//
// Compression is decided by the server, per connection, from the request
// path: permessage-deflate is accepted only on /deflate. That keeps every
// client uncompressed in the other scenarios even when it offers deflate
// unconditionally (undici does).
//
// The first line on stdout is the port it listens on; the harness reads it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"sync"

	"github.com/gorilla/websocket"
)

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0: any free port)")
	readLimit := flag.Int64("read-limit", 64<<20, "largest message accepted, in bytes")
	coalesce := flag.Bool("coalesce", true, "send the echoes read together in one write (see coalescing.go)")
	flag.Parse()
	// Opening 1,000 connections, the collector took a sixth of the server's
	// CPU at the default (100); a benchmark server has memory to spare.
	debug.SetGCPercent(400)

	// Idle connections hold no write buffer: with 10,000 of them open, the
	// server's own memory stays small. They read through the 4 KiB buffer
	// the handshake was read with (ReadBufferSize 0) rather than a new one
	// each: a large frame's payload is read straight into the message, past
	// any buffer.
	pool := &sync.Pool{}
	plain := &websocket.Upgrader{
		ReadBufferSize:  0,
		WriteBufferSize: 64 << 10,
		WriteBufferPool: pool,
		// Benchmark clients send no Origin, or one we do not care about.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	deflate := *plain
	// gorilla negotiates only the no-context-takeover mode, whatever the
	// client offers; all clients get the same answer.
	deflate.EnableCompression = true

	route := func(path string) *websocket.Upgrader {
		if path == "/deflate" {
			return &deflate
		}
		return plain
	}

	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, listener.Addr().(*net.TCPAddr).Port)
	if *coalesce {
		listener = coalescingListener{listener}
	}
	for {
		conn, err := listener.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serveConn(conn, route, *readLimit)
	}
}

// echo sends each message back until the connection ends. The message is
// read whole into a buffer kept for the connection's life (no allocation
// per message once it has grown), then written as a single frame, as most
// servers do, so the clients reassemble no fragments.
func echo(conn *websocket.Conn) {
	defer conn.Close()
	var message bytes.Buffer
	for {
		kind, reader, err := conn.NextReader()
		if err != nil {
			return // Closed (gorilla answers the close frame itself) or broken.
		}
		message.Reset()
		if _, err := io.Copy(&message, reader); err != nil {
			return
		}
		if err := conn.WriteMessage(kind, message.Bytes()); err != nil {
			return
		}
	}
}
