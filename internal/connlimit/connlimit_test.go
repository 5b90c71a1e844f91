package connlimit

import (
	"bufio"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"schulhof/internal/tlsutil"
	"schulhof/policy"
)

// holder accepts on ln and hands every connection to the test.
func holder(t *testing.T, ln net.Listener) <-chan net.Conn {
	t.Helper()
	ch := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if tc, ok := c.(*tls.Conn); ok {
				go func() { tc.Handshake(); ch <- c }()
				continue
			}
			ch <- c
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ch
}

func limiter(t *testing.T, max int64) *Limiter {
	t.Helper()
	p := policy.NewEngine()
	if err := p.SetBound(policy.UnauthConnsPerIP, max); err != nil {
		t.Fatal(err)
	}
	if err := p.SetBound(policy.HeaderTimeoutSeconds, 5); err != nil {
		t.Fatal(err)
	}
	return New(p, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func dial(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func accepted(t *testing.T, ch <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("connection within the cap was not accepted")
	}
	return nil
}

// refusedLine reads what a refused client gets: one line, then the end.
func refusedLine(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("refused connection: %v (read %q)", err, b)
	}
	return string(b)
}

// TestCapAcrossListeners: one counter per client address for SMTP and IMAP
// together; over it each protocol answers in its own words and closes; a
// login or a close frees a place.
func TestCapAcrossListeners(t *testing.T) {
	l := limiter(t, 2)
	smtpLn, imapLn := listen(t), listen(t)
	smtpCh := holder(t, l.Listen(smtpLn, SMTP, nil))
	imapCh := holder(t, l.Listen(imapLn, IMAP, nil))

	dial(t, smtpLn)
	s1 := accepted(t, smtpCh)
	dial(t, imapLn)
	i1 := accepted(t, imapCh)
	if n := l.Unauthenticated(s1.RemoteAddr()); n != 2 {
		t.Fatalf("counted %d connections, want 2", n)
	}

	got := refusedLine(t, dial(t, smtpLn))
	if !strings.HasPrefix(got, "421 4.7.0 [LIMIT-CONN] ") || !strings.HasSuffix(got, "\r\n") || strings.Count(got, "\n") != 1 {
		t.Fatalf("SMTP over the cap: %q", got)
	}
	got = refusedLine(t, dial(t, imapLn))
	if !strings.HasPrefix(got, "* BYE [LIMIT-CONN] ") || strings.Count(got, "\n") != 1 {
		t.Fatalf("IMAP over the cap: %q", got)
	}

	// A login frees the place at once.
	if !Authenticated(i1) {
		t.Fatal("Authenticated did not find the counted connection")
	}
	Authenticated(i1) // twice is once
	dial(t, imapLn)
	i2 := accepted(t, imapCh)
	// So does a close (and closing an authenticated conn counts nothing).
	i1.Close()
	s1.Close()
	dial(t, smtpLn)
	accepted(t, smtpCh)
	if n := l.Unauthenticated(i2.RemoteAddr()); n != 2 {
		t.Fatalf("counted %d connections after login and close, want 2", n)
	}
	refusedLine(t, dial(t, smtpLn))
}

func testTLS(t *testing.T) *tls.Config {
	t.Helper()
	cfg, _, err := tlsutil.Load("", "", t.TempDir(), "schule.test")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCapImplicitTLS: behind implicit TLS the daemon reaches the counted
// connection through *tls.Conn.NetConn, and a refusal is written inside
// TLS (IMAP BYE on 993, HTTP 503 on 443).
func TestCapImplicitTLS(t *testing.T) {
	cfg := testTLS(t)
	l := limiter(t, 1)
	imapsLn, httpsLn := listen(t), listen(t)
	imapsCh := holder(t, tls.NewListener(l.Listen(imapsLn, IMAP, cfg), cfg))
	httpsCh := holder(t, tls.NewListener(l.Listen(httpsLn, HTTP, cfg), cfg))
	client := &tls.Config{InsecureSkipVerify: true}

	c1, err := tls.Dial("tcp", imapsLn.Addr().String(), client)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	s1 := accepted(t, imapsCh)
	if _, ok := s1.(*tls.Conn); !ok {
		t.Fatalf("daemon got %T, want *tls.Conn", s1)
	}

	c2, err := tls.Dial("tcp", imapsLn.Addr().String(), client)
	if err != nil {
		t.Fatalf("refused IMAPS: handshake: %v", err)
	}
	if got := refusedLine(t, c2); !strings.HasPrefix(got, "* BYE [LIMIT-CONN] ") {
		t.Fatalf("IMAPS over the cap: %q", got)
	}

	tr := &http.Transport{TLSClientConfig: client, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + httpsLn.Addr().String() + "/dav/")
	if err != nil {
		t.Fatalf("refused HTTPS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "[LIMIT-CONN]") {
		t.Fatalf("HTTPS over the cap: %d %v %q", resp.StatusCode, resp.Header, body)
	}

	// The IMAP login frees the place, reached through the TLS layer.
	if !Authenticated(s1) {
		t.Fatal("Authenticated did not reach the counted conn through *tls.Conn")
	}
	c3, err := tls.Dial("tcp", httpsLn.Addr().String(), client)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	accepted(t, httpsCh)
}

// TestStartTLSReachesConn: after STARTTLS the daemon holds a *tls.Conn
// over the counted conn; marking it still finds the count.
func TestStartTLSReachesConn(t *testing.T) {
	cfg := testTLS(t)
	l := limiter(t, 1)
	ln := listen(t)
	ch := holder(t, l.Listen(ln, SMTP, nil))
	raw := dial(t, ln)
	s := accepted(t, ch)
	go tls.Client(raw, &tls.Config{InsecureSkipVerify: true}).Handshake()
	srv := tls.Server(s, cfg)
	if err := srv.Handshake(); err != nil {
		t.Fatal(err)
	}
	if !Authenticated(srv) || l.Unauthenticated(s.RemoteAddr()) != 0 {
		t.Fatal("login after STARTTLS not counted")
	}
	if !strings.HasPrefix(dial(t, ln).RemoteAddr().String(), "127.0.0.1") {
		t.Fatal("unexpected address")
	}
	accepted(t, ch)
}

func TestClientKey(t *testing.T) {
	a := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:aaaa::1"), Port: 1})
	b := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:bbbb::7"), Port: 2})
	c := clientKey(&net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1"), Port: 2})
	if a != b || a == c {
		t.Fatalf("IPv6 per /64: %q %q %q", a, b, c)
	}
	if k := clientKey(&net.TCPAddr{IP: net.ParseIP("::ffff:10.0.0.1")}); k != "10.0.0.1" {
		t.Fatalf("mapped IPv4: %q", k)
	}
}

// TestLoginTimeout: an SMTP or IMAP connection that has not logged in
// after login_timeout_seconds is closed, however many NOOPs it sends; a
// logged-in one and an HTTP one (which has its own timeouts) stay.
func TestLoginTimeout(t *testing.T) {
	l := limiter(t, 10)
	if err := l.policy.SetBound(policy.LoginTimeoutSeconds, 1); err != nil {
		t.Fatal(err)
	}
	httpLn, smtpLn := listen(t), listen(t)
	httpCh := holder(t, l.Listen(httpLn, HTTP, nil))
	smtpCh := holder(t, l.Listen(smtpLn, SMTP, nil))
	h := dial(t, httpLn)
	sh := accepted(t, httpCh)
	a := dial(t, smtpLn)
	sa := accepted(t, smtpCh)
	b := dial(t, smtpLn)
	accepted(t, smtpCh)
	Authenticated(sa)

	// b keeps talking and is still cut.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := io.WriteString(b, "NOOP\r\n"); err != nil {
					return
				}
			}
		}
	}()
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(b); err != nil {
		// A reset is a close too (the server did not read the NOOPs).
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection without login not closed: %v", err)
		}
	}
	if n := l.Unauthenticated(sa.RemoteAddr()); n != 1 { // the HTTP one
		t.Fatalf("%d counted after the expiry, want 1", n)
	}
	for _, c := range []struct {
		server, client net.Conn
		what           string
	}{{sa, a, "logged-in SMTP"}, {sh, h, "HTTP"}} {
		if _, err := io.WriteString(c.server, "still here\r\n"); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		c.client.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := bufio.NewReader(c.client).ReadString('\n')
		if err != nil || line != "still here\r\n" {
			t.Fatalf("%s connection closed too: %q %v", c.what, line, err)
		}
	}
}
