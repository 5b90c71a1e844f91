package imapd

import (
	"net"
	"sync"
)

// The library decides per server whether passwords may be sent without
// TLS. Schulhof allows it on loopback only (like Dovecot), so a listener's
// connections are split: loopback ones go to a server that allows plain
// LOGIN, all others to one that advertises LOGINDISABLED until STARTTLS.

// chanListener is a net.Listener fed by Serve's accept loop.
type chanListener struct {
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newChanListener() *chanListener {
	return &chanListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }

// offer hands a connection to the server behind l; false once l is closed.
func (l *chanListener) offer(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		return false
	}
}

func isLoopback(c net.Conn) bool {
	a, ok := c.RemoteAddr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}
