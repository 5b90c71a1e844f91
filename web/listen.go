package web

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// listener gives net/http its connections: HTTP/1 ones wrapped in a
// framingConn, HTTP/2 ones as the *tls.Conn net/http needs to speak h2.
// With TLS it does the handshakes itself, each in its own goroutine and
// within the header timeout, because the protocol (ALPN) decides the
// wrapping before net/http sees the connection.
type listener struct {
	inner   net.Listener
	tls     *tls.Config // nil: plain HTTP (tests on loopback)
	timeout time.Duration
	log     *slog.Logger

	ready     chan accepted
	done      chan struct{}
	closeOnce sync.Once
}

type accepted struct {
	c   net.Conn
	err error
}

func newListener(inner net.Listener, cfg *tls.Config, timeout time.Duration, log *slog.Logger) *listener {
	l := &listener{inner: inner, tls: cfg, timeout: timeout, log: log,
		ready: make(chan accepted), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *listener) acceptLoop() {
	for {
		c, err := l.inner.Accept()
		if err != nil {
			// Handed to net/http, which backs off on temporary errors
			// before it asks again.
			select {
			case l.ready <- accepted{err: err}:
			case <-l.done:
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if l.tls == nil {
			l.hand(&framingConn{Conn: c})
			continue
		}
		go l.handshake(c)
	}
}

func (l *listener) handshake(raw net.Conn) {
	raw.SetDeadline(time.Now().Add(l.timeout))
	tc := tls.Server(raw, l.tls)
	if err := tc.Handshake(); err != nil {
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		}
		l.log.Debug("tls handshake", "remote", raw.RemoteAddr().String(), "err", err)
		raw.Close()
		return
	}
	raw.SetDeadline(time.Time{})
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		l.hand(tc)
		return
	}
	l.hand(&framingTLSConn{framingConn: framingConn{Conn: tc}, tls: tc})
}

// hand gives c to Accept, or closes it when the listener is closed.
func (l *listener) hand(c net.Conn) {
	select {
	case l.ready <- accepted{c: c}:
	case <-l.done:
		c.Close()
	}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case a := <-l.ready:
		return a.c, a.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	err := net.ErrClosed
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

func (l *listener) Addr() net.Addr { return l.inner.Addr() }

func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "PROPF", "DELET":
		return true
	}
	return false
}
