package davd

import (
	"net/http"
	"strings"
	"testing"

	"schulhof/policy"
)

// TestFilesModuleLimitedToGroup: files limited to group 5a. A member and an
// admin get their folders; a non-member gets 403 [MODULE-OFF].
func TestFilesModuleLimitedToGroup(t *testing.T) {
	e := newEnvModules(t, map[policy.Module]policy.ModuleSetting{policy.ModuleFiles: {On: true, Groups: []string{"5a"}}})
	if _, err := e.svc.AddGroup("test", "5a", "class"); err != nil {
		t.Fatal(err)
	}
	member := e.user(t, "Anna", "Acht", policy.Student, "5a")
	adm := e.user(t, "Carla", "Chef", policy.Admin)
	other := e.user(t, "Bert", "Berg", policy.Student)
	for _, u := range []string{member, adm} {
		if resp, body := e.do(t, u, "PROPFIND", "/dav/", nil, "Depth", "0"); resp.StatusCode != http.StatusMultiStatus {
			t.Errorf("%s: %d %s, want 207", u, resp.StatusCode, body)
		}
	}
	resp, body := e.do(t, other, "PROPFIND", "/dav/", nil, "Depth", "0")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[MODULE-OFF]") {
		t.Errorf("non-member: %d %s, want 403 [MODULE-OFF]", resp.StatusCode, body)
	}
}
