package connlimit

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"schulhof/policy"
)

// refuse answers a connection over the cap in its protocol and closes it,
// in the background and within the header timeout, so the accept loop
// never waits for a client.
func (ln *listener) refuse(c net.Conn, d policy.Decision) {
	select {
	case ln.l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	timeout := seconds(ln.l.policy.Bound(policy.HeaderTimeoutSeconds))
	go func() {
		defer func() { <-ln.l.refusing }()
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		var conn net.Conn = c
		if ln.tls != nil {
			tc := tls.Server(c, ln.tls)
			if tc.Handshake() != nil {
				return
			}
			defer tc.Close()
			conn = tc
		}
		switch ln.proto {
		case SMTP:
			// 421: the client tries again later (RFC 5321 4.2.2).
			fmt.Fprintf(conn, "421 4.7.0 %s\r\n", oneLine(d.String()))
		case IMAP:
			fmt.Fprintf(conn, "* BYE %s\r\n", oneLine(d.String()))
		case HTTP:
			refuseHTTP(conn, d, timeout)
		}
	}()
}

// refuseHTTP reads the request's head (so closing does not reset the
// answer away) and answers 503 with Retry-After: a browser shows the text,
// a WebDAV client retries later.
func refuseHTTP(conn net.Conn, d policy.Decision, retry time.Duration) {
	br := bufio.NewReader(io.LimitReader(conn, 64<<10))
	if req, err := http.ReadRequest(br); err == nil {
		io.Copy(io.Discard, io.LimitReader(req.Body, 64<<10))
	}
	body := d.String() + "\n"
	fmt.Fprintf(conn, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"X-Content-Type-Options: nosniff\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s",
		int(retry/time.Second), strconv.Itoa(len(body)), body)
}

// oneLine keeps a refusal text on one protocol line.
func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}
