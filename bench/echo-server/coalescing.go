package main

import (
	"net"
	"sync"
)

// A server that writes each echo with its own system call spends most of
// its time in those calls: with 64-byte messages it saturates its core at
// about the rate a fast client sends, and the benchmark then measures the
// server. coalescingConn collects the server's writes and sends them in one
// call just before the connection blocks to read more; an echo server has
// answered everything it has read by then, so nothing waits that could go.
//
// gorilla reads through its own buffer, so Read is only called once every
// byte already received has been handled: a client that sends 100 frames in
// one write gets 100 echoes back in one write. With one message in flight
// (the latency scenario), each echo still goes out before the next read, as
// before. Every client gets the same server.

// Pending output beyond this is sent at once instead of waiting for the
// next read, so a 1 MiB echo streams out in large writes rather than being
// held whole.
const flushThreshold = 64 << 10

// Buffers are borrowed from a pool while output is pending and returned on
// each flush, so 10,000 idle connections hold none.
// (Pointers, so that putting one back does not allocate.)
var pendingPool = sync.Pool{New: func() any {
	buffer := make([]byte, 0, flushThreshold)
	return &buffer
}}

// Not safe for concurrent use, and need not be: serveConn reads the
// handshake and then echoes in the connection's one goroutine.
type coalescingConn struct {
	net.Conn
	pending *[]byte
	err     error // the first write error: reported by every later write
}

func (c *coalescingConn) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.pending == nil && len(p) >= flushThreshold {
		return c.writeThrough(p)
	}
	if c.pending == nil {
		c.pending = pendingPool.Get().(*[]byte)
	}
	*c.pending = append(*c.pending, p...)
	if len(*c.pending) >= flushThreshold {
		c.flush()
	}
	return len(p), c.err
}

func (c *coalescingConn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *coalescingConn) Close() error {
	c.flush() // The close frame gorilla has just written goes out first.
	return c.Conn.Close()
}

// flush sends what is pending; it reports the first write error.
func (c *coalescingConn) flush() error {
	if c.pending == nil {
		return c.err
	}
	if c.err == nil {
		c.writeThrough(*c.pending)
	}
	*c.pending = (*c.pending)[:0]
	pendingPool.Put(c.pending)
	c.pending = nil
	return c.err
}

func (c *coalescingConn) writeThrough(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// coalescingListener hands out coalescingConns.
type coalescingListener struct{ net.Listener }

func (l coalescingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &coalescingConn{Conn: conn}, nil
}
