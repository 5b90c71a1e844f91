package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"schulhof/policy"
)

// A nil *Metrics is the "no metrics" value: every method is a no-op.
func TestNilMetricsDoNothing(t *testing.T) {
	var m *Metrics
	m.Refused(SMTP, policy.Deny(policy.MailInternal, "x"))
	m.Login(IMAP, policy.Deny(policy.AuthFailed, "x"))
	m.Command(SMTP, "MAIL")
	m.Delivered(3)
	m.ConnOpened(IMAP, "imaps")()
	m.Commit(true, 1)
	m.BlobSync(1)
	m.StoreUsage(nil)
	if ln := m.Listen(nil, SMTP, "submission"); ln != nil {
		t.Fatal("nil Metrics wrapped a listener")
	}
}

// Labels come from fixed lists: what a client chooses (a command name, a
// made-up protocol) cannot grow the series.
func TestLabelsAreBounded(t *testing.T) {
	m := New()
	m.Refused(SMTP, policy.Deny(policy.MailInternal, "x"))
	m.Refused(SMTP, policy.Deny(policy.MailInternal, "y"))
	m.Refused("gopher", policy.Deny(policy.Rule("made up!"), "z"))
	m.Refused(SMTP, policy.Allowed) // an allowed decision is no refusal
	m.Command(IMAP, "uid fetch")
	m.Command(IMAP, "XYZZY-1")
	m.Command(IMAP, "XYZZY-2")
	m.Command(Chat, "send")
	m.Login(DAV, policy.Deny(policy.AuthFailed, ""))
	m.Login(DAV, policy.Deny(policy.AuthThrottle, ""))
	m.Login(DAV, policy.Deny(policy.AccountLocked, "")) // neither failure nor throttle

	for _, c := range []struct {
		got  float64
		want float64
		what string
	}{
		{testutil.ToFloat64(m.refusals.WithLabelValues("smtp", "MAIL-INTERNAL")), 2, "smtp MAIL-INTERNAL"},
		{testutil.ToFloat64(m.refusals.WithLabelValues("other", "other")), 1, "unknown protocol and rule"},
		{float64(testutil.CollectAndCount(m.refusals)), 2, "refusal series"},
		{testutil.ToFloat64(m.commands.WithLabelValues("imap", "UID FETCH")), 1, "UID FETCH"},
		{testutil.ToFloat64(m.commands.WithLabelValues("imap", "other")), 2, "unknown IMAP commands"},
		{testutil.ToFloat64(m.commands.WithLabelValues("chat", "send")), 1, "chat send"},
		{testutil.ToFloat64(m.authFailed.WithLabelValues("dav")), 1, "dav auth failures"},
		{testutil.ToFloat64(m.throttled.WithLabelValues("dav")), 1, "dav throttles"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestConnectionsOpenAndTotal(t *testing.T) {
	m := New()
	a := m.ConnOpened(IMAP, "imaps")
	b := m.ConnOpened(IMAP, "imaps")
	a()
	if got := testutil.ToFloat64(m.connsOpen.WithLabelValues("imap", "imaps")); got != 1 {
		t.Errorf("open %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.connsTotal.WithLabelValues("imap", "imaps")); got != 2 {
		t.Errorf("total %v, want 2", got)
	}
	b()
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestHealthAndReadiness(t *testing.T) {
	m := New()
	storeErr := error(nil)
	h := &Health{Store: func() error { return storeErr }}
	srv := m.Handler(h)
	if code, _ := get(t, srv, "/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, body := get(t, srv, "/readyz"); code != 503 || !strings.Contains(body, "no listener") {
		t.Fatalf("readyz before any listener: %d %q", code, body)
	}
	h.Listening("imaps")
	h.Listening("https")
	if code, body := get(t, srv, "/readyz"); code != 200 {
		t.Fatalf("readyz with listeners up: %d %q", code, body)
	}
	h.Stopped("imaps")
	if code, body := get(t, srv, "/readyz"); code != 503 || !strings.Contains(body, "imaps") {
		t.Fatalf("readyz with imaps stopped: %d %q", code, body)
	}
	h.Listening("imaps")
	storeErr = errors.New("disk full")
	if code, body := get(t, srv, "/readyz"); code != 503 || !strings.Contains(body, "disk full") {
		t.Fatalf("readyz with the store failing: %d %q", code, body)
	}
	storeErr = nil
	h.Stopping()
	if code, body := get(t, srv, "/readyz"); code != 503 || !strings.Contains(body, "shutting down") {
		t.Fatalf("readyz while stopping: %d %q", code, body)
	}
	if code, _ := get(t, srv, "/healthz"); code != 200 {
		t.Fatalf("healthz while stopping %d", code)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9327": true, "127.1.2.3:1": true, "[::1]:9327": true, "localhost:9327": true,
		":9327": false, "0.0.0.0:9327": false, "[::]:9327": false, "192.168.1.5:9327": false,
		"example.org:9327": false, "127.0.0.1": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
