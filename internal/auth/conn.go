package auth

import (
	"crypto/tls"
	"net"
)

// PlaintextAllowed reports whether a client may send its password on conn:
// over TLS, or from loopback (as Dovecot does). Every daemon asks this one
// function, so the rule cannot drift between protocols.
func PlaintextAllowed(conn net.Conn) bool {
	if _, ok := conn.(*tls.Conn); ok {
		return true
	}
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.IsLoopback()
	}
	return false
}

// RemoteIP is the client address recorded in the login log.
func RemoteIP(conn net.Conn) string {
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return ""
}
