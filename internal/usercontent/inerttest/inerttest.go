// Package inerttest checks, for the DAV daemons' tests, that every
// response carries the inert-content headers (usercontent.Inert): one
// pupil to log in as, and a table of requests with the status each gets.
package inerttest

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// PW is the pupil's password.
const PW = "An0ther!Passw0rd"

// Request is one request and the status it must get; User "" sends no
// credentials.
type Request struct {
	User, Method, Path string
	Status             int
}

// R is a Request (short for the tables in the tests).
func R(user, method, path string, status int) Request {
	return Request{User: user, Method: method, Path: path, Status: status}
}

// Pupil opens a fresh store with one pupil (password PW, consents given)
// and a verifier for it; both are closed when the test ends.
func Pupil(t testing.TB) (st *store.Store, v *auth.Verifier, name string) {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := &admin.Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test", DefaultConsentComms: true}
	c, err := svc.AddUser("test", admin.NewUser{First: "Anna", Last: "Schmidt", Role: policy.Student, Password: "Str0ng!Passw0rd"})
	if err != nil {
		t.Fatal(err)
	}
	// Set by hand, so the one-time password's must-change is gone.
	if err := svc.SetPassword("test", c.Account.Name, PW); err != nil {
		t.Fatal(err)
	}
	v = auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { v.Close() })
	return st, v, c.Account.Name
}

// Check sends each request to base (Depth 0, redirects not followed) and
// reports every answer with another status or without the headers.
func Check(t *testing.T, base string, reqs []Request) {
	t.Helper()
	for _, r := range reqs {
		req, _ := http.NewRequest(r.Method, base+r.Path, strings.NewReader(""))
		if r.User != "" {
			req.SetBasicAuth(r.User, PW)
		}
		req.Header.Set("Depth", "0")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != r.Status || !usercontent.IsInert(resp.Header) {
			t.Errorf("%s %s: %d %v", r.Method, r.Path, resp.StatusCode, resp.Header)
		}
	}
}
