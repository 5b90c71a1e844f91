package carddavd

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
	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// Every response carries the inert-content headers, as davd's do: a
// refusal before login and after it (the book is read-only), an answer,
// a path of another account, and the discovery redirect.
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
	h := New(Options{Store: st, Auth: v, Logger: log, Domain: "schule.test"})
	mux := http.NewServeMux()
	mux.Handle(Prefix, h)
	mux.Handle("/.well-known/carddav", WellKnown())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	anna := c.Account.Name
	for _, r := range []struct {
		user, method, path string
		status             int
	}{
		{"", "PROPFIND", Prefix, http.StatusUnauthorized},
		{anna, "PUT", HomePath(anna) + bookName + "/x.vcf", http.StatusForbidden},
		{anna, "PROPFIND", HomePath(anna), http.StatusMultiStatus},
		{anna, "PROPFIND", HomePath("jemand.anders"), http.StatusNotFound},
		{"", "GET", "/.well-known/carddav", http.StatusMovedPermanently},
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
