package web

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// TestPaceArithmetic runs the body pacing with the default bounds (20 s
// grace, 500 B/s) on simulated clocks: a 20 MB upload at 100 KB/s over
// school Wi-Fi passes, a client at 1 byte/s is cut just after the grace,
// and a fast start does not buy a long stall.
func TestPaceArithmetic(t *testing.T) {
	p := newPace(policy.NewEngine())
	if p.grace != 20*time.Second || p.rate != 500 {
		t.Fatalf("defaults: %+v", p)
	}
	// simulate reads of size each taking per; returns bytes read before
	// the cut (or total).
	simulate := func(total, size int64, per time.Duration) (int64, time.Duration) {
		var n int64
		var waited time.Duration
		for n < total {
			if per > p.nextWait(n, waited) {
				return n, waited + p.nextWait(n, waited)
			}
			waited += per
			n += size
		}
		return n, waited
	}
	const wifi = 100 << 10 // bytes per second
	if n, took := simulate(20<<20, 32<<10, time.Second*(32<<10)/wifi); n < 20<<20 {
		t.Fatalf("20 MB at 100 KB/s cut after %d bytes, %v", n, took)
	}
	if n, took := simulate(1<<20, 1, time.Second); n >= 1<<20 || took > 21*time.Second || took < 20*time.Second {
		t.Fatalf("1 byte/s: %d bytes in %v, want a cut just after 20 s", n, took)
	}
	// 10 MB in 2 s, then silence: cut after the grace, not after hours.
	if w := p.nextWait(10<<20, 2*time.Second); w != p.grace {
		t.Fatalf("stall after a fast start may last %v", w)
	}
}

// TestSlowBody over real connections with the bounds scaled down (2 s
// grace, 1,000 B/s): an upload at 20× the minimum rate that lasts longer
// than the grace arrives whole; one at 10 bytes/s is cut with
// LIMIT-TIMEOUT and its connection closed; a body that never comes is cut
// too.
func TestSlowBody(t *testing.T) {
	ts := startServer(t, true, map[policy.BoundKey]int64{policy.HeaderTimeoutSeconds: 2, policy.BodyMinBytesPerSecond: 1000})

	// Slow but acceptable: 60 KB in 2 KB steps, 10 steps a second.
	const total = 60 << 10
	c := ts.dial(t)
	fmt.Fprintf(c, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", total)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	step := strings.Repeat("x", 2<<10)
	for sent := 0; sent < total; sent += len(step) {
		<-tick.C
		if _, err := io.WriteString(c, step); err != nil {
			t.Fatalf("slow upload cut after %d bytes: %v", sent, err)
		}
	}
	if u := <-ts.uploads; u.err != nil || u.n != total {
		t.Fatalf("slow upload: %d bytes, %v", u.n, u.err)
	}
	if resp, body := readResponse(t, bufio.NewReader(c), "slow upload"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("slow upload: %d %q", resp.StatusCode, body)
	}

	// Too slow: a byte every 100 ms.
	c = ts.dial(t)
	fmt.Fprintf(c, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	stop := trickle(c, tick.C)
	u := <-ts.uploads
	stop()
	var refusal *policy.RefusalError
	if !errors.As(u.err, &refusal) || refusal.Decision.Rule != policy.LimitTimeout || !errors.Is(u.err, os.ErrDeadlineExceeded) {
		t.Fatalf("trickling upload: %d bytes, err %v", u.n, u.err)
	}
	if u.n > 100 {
		t.Fatalf("trickling upload held %d bytes (~%d s) before the cut", u.n, u.n/10)
	}
	closedByServer(t, c, "trickling upload")

	// The same against WebDAV: the answer names the rule.
	c = ts.dial(t)
	req, _ := http.NewRequest("PUT", "/", nil)
	req.SetBasicAuth(testUser, testPassword)
	fmt.Fprintf(c, "PUT /dav/home/t.bin HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Length: 1000\r\n\r\n", req.Header.Get("Authorization"))
	stop = trickle(c, tick.C)
	resp, body := readResponse(t, bufio.NewReader(c), "trickling PUT")
	stop()
	if resp.StatusCode != 408 || !strings.Contains(body, "[LIMIT-TIMEOUT]") || !resp.Close {
		t.Fatalf("trickling PUT to /dav/: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}

	// A body announced and never sent.
	c = ts.dial(t)
	fmt.Fprintf(c, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	if u := <-ts.uploads; !errors.Is(u.err, os.ErrDeadlineExceeded) || u.n != 0 {
		t.Fatalf("silent body: %d %v", u.n, u.err)
	}
	closedByServer(t, c, "silent body")
}

// trickle writes one byte to c at every tick until stopped or cut; stop
// waits until it has ended.
func trickle(c net.Conn, tick <-chan time.Time) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case <-tick:
				if _, err := c.Write([]byte{'x'}); err != nil {
					return
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

// TestSilentClient: a client that sends half a header, or nothing after
// connecting (no TLS handshake), is cut after header_timeout_seconds, an
// idle kept-alive one after idle_timeout_seconds (1 s each here; before,
// a fixed 20 s and 2 min that the bounds did not change).
func TestSilentClient(t *testing.T) {
	for _, useTLS := range []bool{true, false} {
		ts := startServer(t, useTLS, map[policy.BoundKey]int64{policy.HeaderTimeoutSeconds: 1, policy.IdleTimeoutSeconds: 1})
		c := ts.dial(t)
		io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: x\r\n")
		closedByServer(t, c, "half a header", 10*time.Second)
		// Kept alive after an answer, then silent: idle_timeout_seconds.
		c = ts.dial(t)
		io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		if resp, _ := readResponse(t, br, "keep-alive"); resp.Close {
			t.Fatal("keep-alive answer closes")
		}
		closedByServer(t, c, "idle keep-alive", 10*time.Second)
		if useTLS { // nothing at all: not even a handshake
			raw := rawDial(t, ts.addr)
			closedByServer(t, raw, "no handshake", 10*time.Second)
		}
	}
}

// TestSlowReader: a client that asks for a large response and does not
// read it is cut once the socket buffers are full and a chunk cannot
// leave in its time.
func TestSlowReader(t *testing.T) {
	ts := startServer(t, true, map[policy.BoundKey]int64{policy.HeaderTimeoutSeconds: 1, policy.BodyMinBytesPerSecond: 1 << 20})
	c := ts.dial(t)
	io.WriteString(c, "GET /download HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case err := <-ts.downloads:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("download to a client that does not read: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the server still writes to a client that does not read")
	}
	closedByServer(t, c, "slow reader")
}

// TestHSTSAndProtocols: every HTTPS response carries HSTS, over HTTP/1.1
// and HTTP/2 (still negotiated), and handlers see Request.TLS.
func TestHSTSAndProtocols(t *testing.T) {
	ts := startServer(t, true, nil)
	cl := ts.client(t)
	for _, path := range []string{"/hello", "/dav/", "/passwort", "/nicht-da"} {
		resp, err := cl.Get(ts.url(path))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
			t.Errorf("%s over %s: no HSTS: %v", path, resp.Proto, resp.Header)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("%s: %s, want HTTP/2", path, resp.Proto)
		}
	}
	if !<-ts.sawTLS {
		t.Error("HTTP/2 handler without Request.TLS")
	}
	// A paced body over HTTP/2 (stream deadlines).
	resp, err := cl.Post(ts.url("/upload"), "application/octet-stream", strings.NewReader(strings.Repeat("x", 100_000)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if u := <-ts.uploads; resp.ProtoMajor != 2 || resp.StatusCode != 200 || u.err != nil || u.n != 100_000 {
		t.Errorf("upload over %s: %d, %d bytes, %v", resp.Proto, resp.StatusCode, u.n, u.err)
	}
	c := ts.dial(t) // HTTP/1.1
	io.WriteString(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, _ = readResponse(t, bufio.NewReader(c), "HTTP/1.1")
	if resp.Header.Get("Strict-Transport-Security") == "" || !<-ts.sawTLS {
		t.Errorf("HTTP/1.1 over TLS: %v", resp.Header)
	}
	// Plain HTTP (tests only) claims nothing.
	plain := startServer(t, false, nil)
	r, err := http.Get(plain.url("/hello"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
}

// TestAmbiguousFraming (RFC 9112 §6.1): a request with both
// Content-Length and Transfer-Encoding is answered and the connection
// closed, so what a front end might read as a second request never
// runs; so is Transfer-Encoding in HTTP/1.0. A plain chunked request
// keeps the connection.
func TestAmbiguousFraming(t *testing.T) {
	for _, useTLS := range []bool{true, false} {
		ts := startServer(t, useTLS, nil)
		smuggled := "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
		cases := []struct {
			what, head string
			closed     bool
		}{
			{"CL+TE", "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", true},
			{"TE+CL, odd case", "POST /upload HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\nCONTENT-LENGTH: 40\r\n\r\n", true},
			{"TE in HTTP/1.0", "POST /upload HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", true},
			{"chunked only", "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		}
		for _, c := range cases {
			conn := ts.dial(t)
			body := "5\r\nhallo\r\n0\r\n\r\n"
			if strings.Contains(c.head, "HTTP/1.0") {
				body = "hallo"
			}
			io.WriteString(conn, c.head+body+smuggled)
			br := bufio.NewReader(conn)
			resp, _ := readResponse(t, br, c.what)
			<-ts.uploads
			if !c.closed {
				if resp.Close {
					t.Errorf("%s (tls %v): connection closed", c.what, useTLS)
				}
				if r2, body := readResponse(t, br, c.what+" second"); r2.StatusCode != 200 || body != "hi" {
					t.Errorf("%s: second request: %d %q", c.what, r2.StatusCode, body)
				}
				continue
			}
			if !resp.Close {
				t.Errorf("%s (tls %v): answer without Connection: close: %v", c.what, useTLS, resp.Header)
			}
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			if rest, err := io.ReadAll(br); len(rest) > 0 || err != nil {
				t.Errorf("%s (tls %v): after the answer: %q %v", c.what, useTLS, rest, err)
			}
		}
	}
}

// TestHijackThroughPacing: a handler that takes over the connection (a
// WebSocket) still can, through the pacing wrapper.
func TestHijackThroughPacing(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(Options{Store: st, Policy: policy.NewEngine()}) // davd needs a store for its locks
	done := make(chan error, 1)
	s.Mount("/ws", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			done <- errors.New("no http.Hijacker")
			return
		}
		c, brw, err := hj.Hijack()
		if err != nil {
			done <- err
			return
		}
		go func() {
			defer c.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
			brw.Flush()
			line, err := brw.ReadString('\n')
			if err == nil {
				_, err = c.Write([]byte("echo " + line))
			}
			done <- err
		}()
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(t.Context())
	c := rawDial(t, ln.Addr().String())
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", err, resp)
	}
	io.WriteString(c, "hallo\n")
	if line, err := br.ReadString('\n'); err != nil || line != "echo hallo\n" {
		t.Fatalf("hijacked connection: %q %v", line, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
