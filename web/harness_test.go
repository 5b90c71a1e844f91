package web

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/internal/connlimit"
	"schulhof/internal/tlsutil"
	"schulhof/policy"
	"schulhof/store"
)

const (
	testUser     = "max.mueller"
	testPassword = "An0ther!Passw0rd"
)

// testServer is a web.Server on a loopback port, as serve wires it: a
// connlimit listener underneath, TLS unless plain.
type testServer struct {
	addr   string
	tls    bool
	policy *policy.Engine
	limit  *connlimit.Limiter
	// Events of the mounted test handlers.
	uploads   chan uploadResult
	downloads chan error
	sawTLS    chan bool
}

type uploadResult struct {
	n   int64
	err error
}

func startServer(t *testing.T, useTLS bool, bounds map[policy.BoundKey]int64) *testServer {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute, Logger: logger,
		FailuresPerAccount: 1000, FailuresPerIP: 1000})
	t.Cleanup(func() { v.Close() })
	pol := policy.NewEngine()
	for k, n := range bounds {
		if err := pol.SetBound(k, n); err != nil {
			t.Fatal(err)
		}
	}
	svc := &admin.Service{Store: st, Policy: pol, Domain: "schule.test", DefaultConsentComms: true}
	c, err := svc.AddUser("test", admin.NewUser{First: "Max", Last: "Müller", Role: policy.Student, Password: "Str0ng!Passw0rd"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPassword("test", c.Account.Name, testPassword); err != nil {
		t.Fatal(err)
	}
	var cfg *tls.Config
	if useTLS {
		cfg, _, err = tlsutil.Load("", "", t.TempDir(), "schule.test")
		if err != nil {
			t.Fatal(err)
		}
	}
	ts := &testServer{tls: useTLS, policy: pol, uploads: make(chan uploadResult, 4), downloads: make(chan error, 4), sawTLS: make(chan bool, 16)}
	s := New(Options{Store: st, Auth: v, Policy: pol, Logger: logger, TLS: cfg})
	s.Mount("/hello", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case ts.sawTLS <- r.TLS != nil:
		default:
		}
		io.WriteString(w, "hi")
	}))
	s.Mount("/upload", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		ts.uploads <- uploadResult{n, err}
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
			return
		}
		io.WriteString(w, "ok")
	}))
	s.Mount("/download", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64<<10)
		for range 10_000 { // 640 MB: more than any socket buffer holds
			if _, err := w.Write(buf); err != nil {
				ts.downloads <- err
				return
			}
		}
		ts.downloads <- nil
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ts.limit = connlimit.New(pol, logger)
	var lcfg *tls.Config
	if useTLS {
		lcfg = cfg
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ts.limit.Listen(ln, connlimit.HTTP, lcfg)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return ts
}

func (ts *testServer) url(path string) string {
	if ts.tls {
		return "https://" + ts.addr + path
	}
	return "http://" + ts.addr + path
}

// client is an HTTP client for the server (HTTP/2 when TLS allows it).
func (ts *testServer) client(t *testing.T) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// dial opens a raw connection (TLS with HTTP/1.1 when the server has it).
func (ts *testServer) dial(t *testing.T) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if ts.tls {
		c, err = tls.Dial("tcp", ts.addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	} else {
		c, err = net.Dial("tcp", ts.addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer waits until the server ends c (EOF or reset), reading
// and discarding what comes first; it fails after guard (generous: ten
// times the bound under test, or 30 s).
func closedByServer(t *testing.T, c net.Conn, what string, guard ...time.Duration) {
	t.Helper()
	g := 30 * time.Second
	if len(guard) > 0 {
		g = guard[0]
	}
	c.SetReadDeadline(time.Now().Add(g))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: the server kept the connection open", what)
	}
}

// readResponse reads one response from c.
func readResponse(t *testing.T, br *bufio.Reader, what string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func rawDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
