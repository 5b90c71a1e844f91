package davd

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"schulhof/internal/auth"
	"schulhof/policy"
)

// TestThrottleAnswers429: Basic auth past the failure limit is answered
// 429 with Retry-After and the rule, not 401 (which makes file managers
// ask for a new password).
func TestThrottleAnswers429(t *testing.T) {
	e := newEnv(t)
	name := e.user(t, "Anna", "Schmidt", policy.Student)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(e.st, auth.Options{Domain: "schule.test", FailuresPerAccount: 2, FailuresPerIP: 100, Logger: logger})
	t.Cleanup(v.Close)
	h := New(Options{Store: e.st, Auth: v, Policy: policy.NewEngine(), Logger: logger, Now: time.Now})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	get := func(pass string) *http.Response {
		req, _ := http.NewRequest("PROPFIND", srv.URL+"/dav/", nil)
		req.Header.Set("Depth", "0")
		req.SetBasicAuth(name, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for range 2 {
		if r := get("falsch"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %s", r.Status)
		}
	}
	r := get(testPassword)
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("throttled: %s %v", r.Status, r.Header)
	}
}
