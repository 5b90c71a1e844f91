package davd

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

const testPassword = "An0ther!Passw0rd"

// env is one store with a DAV server on a random loopback port.
type env struct {
	st  *store.Store
	svc *admin.Service
	srv *httptest.Server
	h   *Handler

	mu  sync.Mutex
	now time.Time
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

func newEnv(t testing.TB) *env { t.Helper(); return newEnvModules(t, nil) }

// newEnvModules is newEnv with the school's [modules] (nil: all on).
func newEnvModules(t testing.TB, mods map[policy.Module]policy.ModuleSetting) *env {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, now: time.Now()}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.svc = &admin.Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test", DefaultConsentComms: true}
	v := auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute, Logger: logger,
		FailuresPerAccount: 1000, FailuresPerIP: 1000, Modules: mods})
	t.Cleanup(func() { v.Close() }) // before the store closes: flushes the login log
	e.h = New(Options{Store: st, Auth: v, Policy: policy.NewEngine(), Logger: logger, Now: e.clock})
	mux := http.NewServeMux()
	mux.Handle("/dav/", e.h)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// user creates an account with a usable password and returns its name.
func (e *env) user(t testing.TB, first, last string, role policy.Role, groups ...string) string {
	t.Helper()
	c, err := e.svc.AddUser("test", admin.NewUser{First: first, Last: last, Role: role, Groups: groups, Password: "Str0ng!Passw0rd"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetPassword("test", c.Account.Name, testPassword); err != nil {
		t.Fatal(err)
	}
	return c.Account.Name
}

// do sends one request as user and returns status and body.
func (e *env) do(t testing.TB, user, method, path string, body io.Reader, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, testPassword)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// tool finds an external client: skipped when missing, except in CI.
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
