package caldavd

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/internal/calendar"
	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// Every response carries the inert-content headers, as davd's do: a
// refusal before login, an answer after it, the discovery redirect, and
// the subscription feed's not-found.
func TestEveryResponseInert(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &admin.Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test", DefaultConsentComms: true}
	const pw = "An0ther!Passw0rd"
	c, err := svc.AddUser("test", admin.NewUser{First: "Anna", Last: "Schmidt", Role: policy.Student, Password: "Str0ng!Passw0rd"})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPassword("test", c.Account.Name, pw); err != nil {
		t.Fatal(err)
	}
	v := auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute, Logger: log})
	t.Cleanup(func() { v.Close() })
	h := New(Options{Calendar: calendar.New(st, nil, nil), Auth: v, Logger: log})
	mux := http.NewServeMux()
	mux.Handle(Prefix, h)
	mux.Handle("/.well-known/caldav", h)
	mux.Handle("GET "+FeedPrefix, h.Feed())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for _, r := range []struct {
		user, method, path string
		status             int
	}{
		{"", "PROPFIND", Prefix, http.StatusUnauthorized},
		{c.Account.Name, "PROPFIND", principalPath(c.Account.Name), http.StatusMultiStatus},
		{c.Account.Name, "GET", "/.well-known/caldav", http.StatusMovedPermanently},
		{"", "GET", FeedPrefix + "unbekannt.ics", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(""))
		if r.user != "" {
			req.SetBasicAuth(r.user, pw)
		}
		req.Header.Set("Depth", "0")
		resp, err := http.DefaultTransport.RoundTrip(req) // no redirect followed
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != r.status || !usercontent.IsInert(resp.Header) {
			t.Errorf("%s %s: %d %v", r.method, r.path, resp.StatusCode, resp.Header)
		}
	}
}
