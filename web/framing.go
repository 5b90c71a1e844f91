package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync/atomic"
)

// RFC 9112 §6.1: a request with both Content-Length and Transfer-Encoding
// may be an attempt at request smuggling; the server must close the
// connection after answering it (and one with Transfer-Encoding in
// HTTP/1.0 too, §6.1 last paragraph). net/http serves such a request by
// its chunked framing but deletes Content-Length before a handler could
// see it and keeps the connection, so the request heads are watched as
// they are read: framingConn sits between TLS and the HTTP/1 server.

// framingConn is an HTTP/1 connection whose request heads are scanned.
type framingConn struct {
	net.Conn
	scan headScanner
	// Set once a head with both fields (or with Transfer-Encoding) was
	// read; sticky, the connection closes after the answer.
	both, te atomic.Bool
}

func (c *framingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.scan.feed(p[:n], c)
	return n, err
}

// NetConn is the connection underneath (connlimit marks through it).
func (c *framingConn) NetConn() net.Conn { return c.Conn }

// framingTLSConn is a framingConn over TLS; net/http takes Request.TLS
// from its ConnectionState.
type framingTLSConn struct {
	framingConn
	tls *tls.Conn
}

func (c *framingTLSConn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }

// headScanner finds, in the bytes of a connection, the blocks of lines
// up to an empty line and notes which header fields each had. Bodies are
// scanned too: a body that looks like such a head closes the connection
// after its answer, which is safe.
type headScanner struct {
	prefix  [len("transfer-encoding:")]byte
	n       int // bytes of the line kept in prefix
	lineLen int
	cl, te  bool
}

func (s *headScanner) feed(b []byte, c *framingConn) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		part := b
		if i >= 0 {
			part = b[:i]
		}
		s.n += copy(s.prefix[s.n:], part)
		s.lineLen += len(part)
		if i < 0 {
			return
		}
		s.endLine(c)
		b = b[i+1:]
	}
}

func (s *headScanner) endLine(c *framingConn) {
	line := s.prefix[:s.n]
	if s.lineLen == 0 || (s.lineLen == 1 && line[0] == '\r') {
		if s.te {
			c.te.Store(true)
			if s.cl {
				c.both.Store(true)
			}
		}
		s.cl, s.te = false, false
	} else {
		lower := bytes.ToLower(line)
		s.cl = s.cl || bytes.HasPrefix(lower, []byte("content-length:"))
		s.te = s.te || bytes.HasPrefix(lower, []byte("transfer-encoding:"))
	}
	s.n, s.lineLen = 0, 0
}

type framingKey struct{}

// closeOnAmbiguousFraming answers such a request and then closes.
func closeOnAmbiguousFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(framingKey{}).(*framingConn); ok {
			if c.both.Load() || (c.te.Load() && !r.ProtoAtLeast(1, 1)) {
				w.Header().Set("Connection", "close")
			}
		}
		next.ServeHTTP(w, r)
	})
}

// withFraming remembers the request's framingConn (ConnContext).
func withFraming(ctx context.Context, c net.Conn) context.Context {
	switch fc := c.(type) {
	case *framingConn:
		return context.WithValue(ctx, framingKey{}, fc)
	case *framingTLSConn:
		return context.WithValue(ctx, framingKey{}, &fc.framingConn)
	}
	return ctx
}
