package metrics

import (
	"net"
	"sync"
)

// Listen wraps ln so that every accepted connection is counted on the
// listener (open now and total) until it is closed. It sits below TLS, so
// a connection counts from its first byte.
func (m *Metrics) Listen(ln net.Listener, proto, listener string) net.Listener {
	if m == nil {
		return ln
	}
	return &countingListener{Listener: ln, m: m, proto: proto, name: listener}
}

type countingListener struct {
	net.Listener
	m           *Metrics
	proto, name string
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, closed: l.m.ConnOpened(l.proto, l.name)}, nil
}

type countedConn struct {
	net.Conn
	once   sync.Once
	closed func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.closed)
	return c.Conn.Close()
}
