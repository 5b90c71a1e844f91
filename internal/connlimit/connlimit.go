// Package connlimit caps the connections one client address holds open
// before it has logged in, counted over every listener of the server
// together (rule LIMIT-CONN, bound unauthenticated_connections_per_ip).
//
// A listener wrapped by Limiter.Listen counts each accepted connection
// against its client address until the daemon marks it authenticated
// (Authenticated, AuthenticatedContext) or it closes; an SMTP or IMAP
// connection that has not logged in after login_timeout_seconds is closed
// (HTTP has its header and idle timeouts instead). A connection over the
// cap never reaches the daemon: it gets the protocol's own temporary
// refusal (SMTP 421, IMAP BYE, HTTP 503 with Retry-After) and is closed.
// IPv6 clients are counted per /64, the block one household or laptop
// gets, so cycling through addresses does not escape the cap.
package connlimit

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"schulhof/policy"
)

// Protocol selects the refusal a connection over the cap gets.
type Protocol int

const (
	SMTP Protocol = iota + 1 // 421 4.7.0 [LIMIT-CONN] …
	IMAP                     // * BYE [LIMIT-CONN] …
	HTTP                     // 503 with Retry-After
)

// maxRefusing bounds the refusals being written at once (each may need a
// TLS handshake); beyond it a connection over the cap is closed at once,
// so a flood of connections cannot turn refusals into work.
const maxRefusing = 64

// Limiter is the one counter of unauthenticated connections per client
// address, shared by every listener it wraps.
type Limiter struct {
	policy *policy.Engine
	log    *slog.Logger

	mu   sync.Mutex
	open map[string]int64 // client key → connections not yet logged in

	refusing chan struct{}

	// Refused, if set, is told of every refusal (LIMIT-CONN at accept,
	// LIMIT-TIMEOUT when a login did not come in time), for metrics.
	// Set it before the first Listen.
	Refused func(proto Protocol, d policy.Decision)
}

// New returns a limiter reading its cap from p at every accept, so a
// changed bound applies to the next connection.
func New(p *policy.Engine, log *slog.Logger) *Limiter {
	if p == nil {
		p = policy.NewEngine()
	}
	if log == nil {
		log = slog.Default()
	}
	return &Limiter{policy: p, log: log, open: map[string]int64{}, refusing: make(chan struct{}, maxRefusing)}
}

// Unauthenticated is the number of connections from addr's client that
// are counted now (for tests and the admin view).
func (l *Limiter) Unauthenticated(addr net.Addr) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[clientKey(addr)]
}

// acquire counts one more connection for key unless that is over the cap.
func (l *Limiter) acquire(key string) policy.Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.open[key] + 1
	d := l.policy.CheckBound(policy.UnauthConnsPerIP, n)
	if d.Allow {
		l.open[key] = n
	}
	return d
}

func (l *Limiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] <= 1 {
		delete(l.open, key)
	} else {
		l.open[key]--
	}
}

// Listen wraps inner. tlsConfig is set for implicit-TLS listeners whose
// daemon does the handshake itself (465, 993, 443): a refusal is then
// written inside TLS, so the client shows it instead of a broken
// handshake.
func (l *Limiter) Listen(inner net.Listener, proto Protocol, tlsConfig *tls.Config) net.Listener {
	if tlsConfig != nil {
		tlsConfig = tlsConfig.Clone()
		if proto == HTTP {
			tlsConfig.NextProtos = []string{"http/1.1"} // the refusal speaks HTTP/1.1 only
		}
	}
	return &listener{Listener: inner, l: l, proto: proto, tls: tlsConfig}
}

type listener struct {
	net.Listener
	l     *Limiter
	proto Protocol
	tls   *tls.Config
}

// Accept returns the next connection within the cap; those over it are
// refused in the background.
func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr())
		d := ln.l.acquire(key)
		if d.Allow {
			conn := &Conn{Conn: c, l: ln.l, key: key, proto: ln.proto}
			if ln.proto != HTTP {
				// A mail client logs in right after connecting; one that
				// only sends NOOPs would hold its place for ever.
				conn.expiry = time.AfterFunc(seconds(ln.l.policy.Bound(policy.LoginTimeoutSeconds)), conn.expire)
			}
			return conn, nil
		}
		ln.l.log.Debug("connection refused", "rule", d.Rule, "remote", c.RemoteAddr().String())
		ln.l.refused(ln.proto, d)
		ln.refuse(c, d)
	}
}

// Conn is a connection counted against its client until Authenticated or
// Close.
type Conn struct {
	net.Conn
	l      *Limiter
	key    string
	proto  Protocol
	once   sync.Once
	expiry *time.Timer // SMTP, IMAP: closes the connection unless it logs in in time
}

// Authenticated stops counting the connection: its client has logged in.
// Calling it again, or after Close, does nothing.
func (c *Conn) Authenticated() {
	c.once.Do(func() {
		if c.expiry != nil {
			c.expiry.Stop()
		}
		c.l.release(c.key)
	})
}

// expire ends a connection that did not log in within
// login_timeout_seconds (LIMIT-TIMEOUT); the daemon sees it closed.
func (c *Conn) expire() {
	c.once.Do(func() {
		c.l.release(c.key)
		c.l.log.Debug("no login in time", "rule", policy.LimitTimeout, "remote", c.RemoteAddr().String())
		c.l.refused(c.proto, policy.Deny(policy.LimitTimeout, "no login in time"))
		c.Conn.Close()
	})
}

// Close closes the connection and stops counting it.
func (c *Conn) Close() error {
	c.Authenticated()
	return c.Conn.Close()
}

// Authenticated marks nc as logged in. nc may be the Conn itself or any
// wrapper that reaches it through NetConn (a *tls.Conn after STARTTLS or
// on an implicit-TLS port). It reports whether a counted Conn was found.
func Authenticated(nc net.Conn) bool {
	for nc != nil {
		if c, ok := nc.(*Conn); ok {
			c.Authenticated()
			return true
		}
		w, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return false
		}
		nc = w.NetConn()
	}
	return false
}

type connKey struct{}

// WithConn remembers the connection a request came on (http.Server's
// ConnContext), for AuthenticatedContext.
func WithConn(ctx context.Context, nc net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, nc)
}

// AuthenticatedContext marks the connection remembered by WithConn as
// logged in: an HTTP handler calls it once a request passed its login.
func AuthenticatedContext(ctx context.Context) {
	if nc, ok := ctx.Value(connKey{}).(net.Conn); ok {
		Authenticated(nc)
	}
}

// clientKey is what the cap counts: the IPv4 address, or the /64 of an
// IPv6 address.
func clientKey(a net.Addr) string {
	var ip net.IP
	switch a := a.(type) {
	case *net.TCPAddr:
		ip = a.IP
	default:
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return a.String()
		}
		ip = net.ParseIP(host)
		if ip == nil {
			return host
		}
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// seconds turns a bound in seconds into a duration.
func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

func (l *Limiter) refused(proto Protocol, d policy.Decision) {
	if l.Refused != nil {
		l.Refused(proto, d)
	}
}
