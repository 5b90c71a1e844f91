package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

func TestPasswordChangePage(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, _ := auth.HashPassword("Kp7w-Rm4z-Xa9d", auth.OneTimeParams)
	st.CreateAccount(store.Account{First: "Max", Last: "Müller", Role: "student", PasswordHash: h, MustChange: true,
		ConsentPlatform: true, ConsentComms: true}, func(int) string { return "max.mueller" })
	v := auth.New(st, auth.Options{Domain: "schule.test", FailuresPerAccount: 5, FailuresPerIP: 30, CacheTTL: time.Minute,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer v.Close()
	srv := httptest.NewServer(PasswordHandler(v, policy.NewEngine()))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err, resp.Status)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "Neues Passwort") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatal("form or CSP missing")
	}

	post := func(form url.Values, origin string) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	f := url.Values{"account": {"max.mueller@schule.test"}, "current": {"Kp7w-Rm4z-Xa9d"}, "new": {"Blume#Wiese77"}, "repeat": {"Blume#Wiese77"}}
	if code, _ := post(f, "https://evil.example"); code != 403 {
		t.Fatalf("cross-origin post: %d", code)
	}
	bad := url.Values{"account": f["account"], "current": f["current"], "new": {"kurz"}, "repeat": {"kurz"}}
	if code, body := post(bad, ""); code != 422 || !strings.Contains(body, "[PW-STRENGTH]") {
		t.Fatalf("weak password: %d %s", code, body)
	}
	mismatch := url.Values{"account": f["account"], "current": f["current"], "new": {"Blume#Wiese77"}, "repeat": {"Blume#Wiese78"}}
	if code, _ := post(mismatch, ""); code != 422 {
		t.Fatalf("mismatch: %d", code)
	}
	if code, body := post(f, srv.URL); code != 200 || !strings.Contains(body, "wurde geändert") {
		t.Fatalf("change: %d %s", code, body)
	}
	if a, _ := st.Account("max.mueller"); a.MustChange {
		t.Fatal("must-change still set")
	}
	if code, body := post(f, ""); code != 403 || !strings.Contains(body, "[AUTH-FAILED]") {
		t.Fatalf("old one-time password again: %d %s", code, body)
	}
}

// TestPasswordPageThrottle: past the failure limit the page answers 429
// with Retry-After, naming AUTH-THROTTLE.
func TestPasswordPageThrottle(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, _ := auth.HashPassword("Kp7w-Rm4z-Xa9d", auth.OneTimeParams)
	st.CreateAccount(store.Account{First: "Max", Last: "Müller", Role: "student", PasswordHash: h,
		ConsentPlatform: true, ConsentComms: true}, func(int) string { return "max.mueller" })
	v := auth.New(st, auth.Options{Domain: "schule.test", FailuresPerAccount: 1, FailuresPerIP: 30,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer v.Close()
	srv := httptest.NewServer(PasswordHandler(v, policy.NewEngine()))
	defer srv.Close()
	post := func(current string) (*http.Response, string) {
		f := url.Values{"account": {"max.mueller"}, "current": {current}, "new": {"Blume#Wiese77"}, "repeat": {"Blume#Wiese77"}}
		resp, err := http.PostForm(srv.URL, f)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if r, _ := post("falsch"); r.StatusCode != 403 {
		t.Fatalf("wrong password: %s", r.Status)
	}
	r, body := post("Kp7w-Rm4z-Xa9d")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "60" || !strings.Contains(body, "[AUTH-THROTTLE]") {
		t.Fatalf("throttled: %s %q", r.Status, r.Header.Get("Retry-After"))
	}
}
