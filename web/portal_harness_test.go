package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// portalEnv is a portal on a loopback port (plain HTTP: cookies are
// handled by hand, since __Host- cookies are Secure).
type portalEnv struct {
	t    testing.TB
	st   *store.Store
	svc  *admin.Service
	srv  *Server
	base string
	host string
	pol  *policy.Engine
	auth *auth.Verifier
	// metrics is the server's (each test's own registry).
	metrics *metrics.Metrics

	mu  sync.Mutex
	now time.Time
}

const testPW = "Str0ng!Passw0rd"

func newPortalEnv(t testing.TB, mod func(*PortalOptions)) *portalEnv {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute, Logger: logger})
	pol := policy.NewEngine()
	e := &portalEnv{t: t, st: st, pol: pol, auth: v, now: time.Now(), metrics: metrics.New()}
	e.svc = &admin.Service{Store: st, Policy: pol, Domain: "schule.test", DefaultConsentComms: true}
	po := &PortalOptions{Domain: "schule.test", Now: e.clock, Inspect: e.svc}
	if mod != nil {
		mod(po)
	}
	e.srv = New(Options{Store: st, Auth: v, Policy: pol, Logger: logger, Portal: po, Metrics: e.metrics})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(ln)
	e.host = ln.Addr().String()
	e.base = "http://" + e.host
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
		v.Close()
		st.Close()
	})
	return e
}

func (e *portalEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *portalEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// user creates an account with a chosen password (no must-change unless asked).
func (e *portalEnv) user(first, last string, role policy.Role, mustChange bool, groups ...string) string {
	e.t.Helper()
	c, err := e.svc.AddUser("test", admin.NewUser{First: first, Last: last, Role: role, Groups: groups, Password: testPW})
	if err != nil {
		e.t.Fatal(err)
	}
	if !mustChange {
		if _, err := e.st.UpdateAccount(c.Account.Name, func(a *store.Account) error { a.MustChange = false; return nil }); err != nil {
			e.t.Fatal(err)
		}
	}
	return c.Account.Name
}

// browser keeps cookies by name, like a browser would for this host.
type browser struct {
	e       *portalEnv
	cookies map[string]string
	origin  string
}

func (e *portalEnv) browser() *browser {
	return &browser{e: e, cookies: map[string]string{}, origin: e.base}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		b.setOrigin(req)
	}
	return b.send(req)
}

// setOrigin sends the browser's Origin with a form, unless a test cleared it.
func (b *browser) setOrigin(req *http.Request) {
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
}

// send carries the browser's cookies, reads the whole answer and keeps
// what the server set or cleared, as a browser would.
func (b *browser) send(req *http.Request) (*http.Response, string) {
	b.e.t.Helper()
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return resp, string(raw)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf fetches a page and returns its form token.
func (b *browser) csrf(path string) string {
	b.e.t.Helper()
	_, body := b.do("GET", path, nil)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		b.e.t.Fatalf("no csrf token on %s: %s", path, body)
	}
	return m[1]
}

func (b *browser) login(name, pw string) *http.Response {
	b.e.t.Helper()
	tok := b.csrf("/")
	resp, _ := b.do("POST", "/anmelden", url.Values{"csrf": {tok}, "account": {name}, "password": {pw}})
	return resp
}

func (b *browser) mustLogin(name string) {
	b.e.t.Helper()
	if resp := b.login(name, testPW); resp.StatusCode != http.StatusSeeOther || b.cookies[sessionCookie] == "" {
		b.e.t.Fatalf("login %s: %v", name, resp.Status)
	}
}

// ws is a chat connection of a browser.
type ws struct {
	t    testing.TB
	c    *websocket.Conn
	in   chan map[string]any
	done chan error
}

func (b *browser) dial() (*ws, *http.Response, error) {
	h := http.Header{}
	if b.origin != "" {
		h.Set("Origin", b.origin)
	}
	for k, v := range b.cookies {
		h.Add("Cookie", (&http.Cookie{Name: k, Value: v}).String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+b.e.host+"/chat/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	w := &ws{t: b.e.t, c: c, in: make(chan map[string]any, 1000), done: make(chan error, 1)}
	go func() {
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				w.done <- err
				close(w.in)
				return
			}
			var m map[string]any
			json.Unmarshal(data, &m)
			if items, ok := m["items"].([]any); ok && m["t"] == "batch" {
				for _, it := range items {
					w.in <- it.(map[string]any)
				}
				continue
			}
			w.in <- m
		}
	}()
	b.e.t.Cleanup(func() { c.CloseNow() })
	return w, resp, nil
}

func (b *browser) mustDial() *ws {
	b.e.t.Helper()
	w, resp, err := b.dial()
	if err != nil {
		b.e.t.Fatalf("dial: %v %v", err, resp)
	}
	return w
}

func (w *ws) send(m map[string]any) {
	w.t.Helper()
	raw, _ := json.Marshal(m)
	if err := w.c.Write(context.Background(), websocket.MessageText, raw); err != nil {
		w.t.Fatal(err)
	}
}

// next waits for a frame of type t (skipping others).
func (w *ws) next(typ string) map[string]any {
	w.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-w.in:
			if !ok {
				w.t.Fatalf("connection closed waiting for %q: %v", typ, <-w.done)
			}
			if m["t"] == typ || (typ == "ack" && m["t"] == "err") {
				return m
			}
		case <-timeout:
			w.t.Fatalf("no %q frame", typ)
		}
	}
}

// nextMsg returns the next live message frame for seq. A connection that
// resumes can also get, live, a message committed just before it joined
// that its sync already returned (the hub fans out after the commit); the
// client merges by seq and revision (chat.js), so such frames are skipped.
func (w *ws) nextMsg(seq float64) map[string]any {
	w.t.Helper()
	for {
		m := w.next("msg")["msg"].(map[string]any)
		if m["seq"] == seq {
			return m
		}
	}
}

// closed waits up to d for the connection to end and returns its status.
func (w *ws) closed(d time.Duration) (websocket.StatusCode, bool) {
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-w.in:
			if !ok {
				err := <-w.done
				return websocket.CloseStatus(err), true
			}
		case <-timeout:
			return 0, false
		}
	}
}
