package davd

import (
	"net/http"
	"strings"
	"testing"

	"schulhof/internal/usercontent"
	"schulhof/policy"
)

// Every response of the handler carries the inert-content headers: a
// refusal before login, one after, a bad path, a listing, a missing file.
func TestEveryResponseInert(t *testing.T) {
	e := newEnv(t)
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	for _, c := range []struct {
		user, method, path, body string
		status                   int
	}{
		{"", "PROPFIND", "/dav/", "", http.StatusUnauthorized},
		{anna, "PROPFIND", "/dav/", "", http.StatusMultiStatus},
		{anna, "GET", "/dav/fehlt.html", "", http.StatusNotFound},
		{anna, "GET", "/dav/a/%2e%2e/b", "", http.StatusBadRequest},
		{anna, "PROPFIND", "/dav/", strings.Repeat("<a>", 1<<20), http.StatusRequestEntityTooLarge},
	} {
		resp, _ := e.do(t, c.user, c.method, c.path, strings.NewReader(c.body), "Depth", "0")
		if resp.StatusCode != c.status || !usercontent.IsInert(resp.Header) {
			t.Errorf("%s %s: %d %v", c.method, c.path, resp.StatusCode, resp.Header)
		}
	}
}
