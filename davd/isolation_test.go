package davd

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"schulhof/policy"
	"schulhof/store"
)

// rawRequest sends a request line exactly as given (no client-side
// cleaning or re-encoding of the path) and returns the status.
func (e *env) rawRequest(t *testing.T, user, method, target string, hdr ...string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req, _ := http.NewRequest(method, e.srv.URL+"/", nil)
	req.SetBasicAuth(user, testPassword)
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: 0\r\nConnection: close\r\n",
		method, target, e.srv.Listener.Addr(), req.Header.Get("Authorization"))
	for i := 0; i+1 < len(hdr); i += 2 {
		fmt.Fprintf(c, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	fmt.Fprintf(c, "\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIsolation(t *testing.T) {
	e := newEnv(t)
	alice := e.user(t, "Alice", "A", policy.Student, "5a")
	bob := e.user(t, "Bob", "B", policy.Student, "5b")
	if r, _ := e.do(t, bob, "PUT", "/dav/home/secret.txt", strings.NewReader("bob's secret")); r.StatusCode != 201 {
		t.Fatalf("bob PUT: %d", r.StatusCode)
	}
	if r, _ := e.do(t, bob, "PUT", "/dav/groups/5b/class.txt", strings.NewReader("5b only")); r.StatusCode != 201 {
		t.Fatalf("bob group PUT: %d", r.StatusCode)
	}
	if r, _ := e.do(t, alice, "PUT", "/dav/home/mine.txt", strings.NewReader("alice")); r.StatusCode != 201 {
		t.Fatalf("alice PUT: %d", r.StatusCode)
	}
	bobState := func() {
		t.Helper()
		if e, err := e.st.FileStat(store.HomeTree(bob), "/secret.txt"); err != nil || e.Size != 12 {
			t.Fatalf("bob's home changed: %v %v", e, err)
		}
		list, _ := e.st.FileList(store.GroupTree("5b"), "/")
		if len(list) != 1 {
			t.Fatalf("5b folder changed: %v", list)
		}
		if _, err := e.st.FileStat(store.HomeTree(alice), "/mine.txt"); err != nil {
			t.Fatalf("alice's file moved: %v", err)
		}
	}
	refused := func(what string, code int, body string) {
		t.Helper()
		if code < 300 || strings.Contains(body, "secret") || strings.Contains(body, "5b only") {
			t.Errorf("%s: %d %q", what, code, body)
		}
		bobState()
	}

	// The listing shows only her own things.
	r, body := e.do(t, alice, "PROPFIND", "/dav/groups/", nil, "Depth", "1")
	if r.StatusCode != 207 || !strings.Contains(body, "/dav/groups/5a/") || strings.Contains(body, "5b") {
		t.Fatalf("PROPFIND /dav/groups/: %d %s", r.StatusCode, body)
	}
	r, body = e.do(t, alice, "PROPFIND", "/dav/home/", nil, "Depth", "1")
	if r.StatusCode != 207 || strings.Contains(body, "secret") || !strings.Contains(body, "mine.txt") {
		t.Fatalf("PROPFIND /dav/home/: %d %s", r.StatusCode, body)
	}
	r, body = e.do(t, alice, "PROPFIND", "/dav/home/", nil)
	if r.StatusCode != 403 || !strings.Contains(body, "propfind-finite-depth") {
		t.Fatalf("PROPFIND without Depth: %d %s", r.StatusCode, body)
	}

	for _, target := range []string{
		"/dav/home/secret.txt",
		"/dav/groups/5b/class.txt",
		"/dav/groups/5b/",
		"/dav/home/../groups/5b/class.txt",
		"/dav/home/%2e%2e/groups/5b/class.txt",
		"/dav/home/%2e%2e%2fgroups%2f5b%2fclass.txt",
		"/dav/home/%252e%252e%252fgroups%252f5b%252fclass.txt",
		"/dav/home/..%5c..%5cgroups%5c5b%5cclass.txt",
		"/dav/" + bob + "/secret.txt",
		"/dav/home/" + bob + "/secret.txt",
		"/dav/../dav/groups/5b/class.txt",
		"/dav/groups/5b%2fclass.txt",
		"/dav/groups/%35b/class.txt",
	} {
		for _, m := range []string{"GET", "PROPFIND", "DELETE"} {
			code, body := e.rawRequest(t, alice, m, target, "Depth", "0")
			refused(m+" "+target, code, body)
		}
		// MOVE/COPY may only ever land in her own home.
		for _, m := range []string{"COPY", "MOVE"} {
			code, body := e.rawRequest(t, alice, m, "/dav/home/mine.txt", "Destination", target)
			if code/100 == 2 {
				own := strings.HasPrefix(target, "/dav/home/") && !strings.Contains(target, "..") && !strings.Contains(strings.ToLower(target), "%2e%2e")
				if !own {
					t.Errorf("%s to %s: %d", m, target, code)
				}
				// Restore: her home holds only mine.txt again.
				list, _ := e.st.FileList(store.HomeTree(alice), "/")
				for _, f := range list {
					e.st.FileRemove(store.HomeTree(alice), "/"+f.Name)
				}
				e.do(t, alice, "PUT", "/dav/home/mine.txt", strings.NewReader("alice"))
			}
			refused(m+" to "+target+" (bob's side)", 300, body)
		}
		code, body := e.rawRequest(t, alice, "MOVE", target, "Destination", "/dav/home/stolen.txt")
		refused("MOVE from "+target, code, body)
	}
	// Another host in Destination.
	for _, dst := range []string{"http://evil.example/dav/home/x", "http://" + bob + "@" + e.srv.Listener.Addr().String() + "/../x"} {
		code, body := e.rawRequest(t, alice, "MOVE", "/dav/home/mine.txt", "Destination", dst)
		refused("MOVE to "+dst, code, body)
	}
	if _, err := e.st.FileStat(store.HomeTree(alice), "/stolen.txt"); err == nil {
		t.Fatal("something was moved into alice's home")
	}
	// Symlink-like and odd names are plain names in her own home.
	for _, name := range []string{"...", "link%20-%3E%20etc", "~bob", "%2fetc%2fpasswd"} {
		code, _ := e.rawRequest(t, alice, "GET", "/dav/home/"+name)
		if code != 404 && code != 400 {
			t.Errorf("GET odd name %s: %d", name, code)
		}
	}
	// A lock token of bob's does not work for alice.
	r, body = e.do(t, bob, "LOCK", "/dav/home/secret.txt", strings.NewReader(`<?xml version="1.0"?>
<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype></lockinfo>`))
	token := r.Header.Get("Lock-Token")
	if r.StatusCode != 200 || token == "" {
		t.Fatalf("bob LOCK: %d %s", r.StatusCode, body)
	}
	if r, _ := e.do(t, alice, "UNLOCK", "/dav/home/secret.txt", nil, "Lock-Token", token); r.StatusCode/100 == 2 {
		t.Fatalf("alice unlocked bob's lock: %d", r.StatusCode)
	}
	if r, _ := e.do(t, bob, "PUT", "/dav/home/secret.txt", strings.NewReader("overwritten")); r.StatusCode != 423 {
		t.Fatalf("bob's lock lost: PUT without token got %d", r.StatusCode)
	}
	bobState()
	// Wrong password and no password.
	if r, _ := e.do(t, "", "PROPFIND", "/dav/", nil, "Depth", "0"); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous: %d", r.StatusCode)
	}
}

func TestGroupFolderShared(t *testing.T) {
	e := newEnv(t)
	s1 := e.user(t, "Sara", "S", policy.Student, "7c")
	s2 := e.user(t, "Tom", "T", policy.Student, "7c")
	if r, _ := e.do(t, s1, "PUT", "/dav/home/work.txt", strings.NewReader("homework")); r.StatusCode != 201 {
		t.Fatal(r.StatusCode)
	}
	// MOVE from home into the group folder is a metadata operation.
	if r, b := e.do(t, s1, "MOVE", "/dav/home/work.txt", nil, "Destination", "/dav/groups/7c/work.txt"); r.StatusCode != 201 {
		t.Fatalf("MOVE home → group: %d %s", r.StatusCode, b)
	}
	if r, b := e.do(t, s2, "GET", "/dav/groups/7c/work.txt", nil); r.StatusCode != 200 || b != "homework" {
		t.Fatalf("classmate GET: %d %q", r.StatusCode, b)
	}
	if u, _ := e.st.TreeUsage(store.GroupTree("7c")); u != 8 {
		t.Fatalf("group usage = %d", u)
	}
	if u, _ := e.st.TreeUsage(store.HomeTree(s1)); u != 0 {
		t.Fatalf("home usage = %d", u)
	}
}

// TestGroupRoles: the group's teacher uses its folder; an admin who is
// not in the group does not see it (admins reach it only through the CLI).
func TestGroupRoles(t *testing.T) {
	e := newEnv(t)
	s := e.user(t, "Schü", "Ler", policy.Student, "9d")
	teacher := e.user(t, "Leh", "Rerin", policy.Teacher, "9d")
	adm := e.user(t, "Ad", "Min", policy.Admin)
	if r, _ := e.do(t, s, "PUT", "/dav/groups/9d/aufgabe.txt", strings.NewReader("x")); r.StatusCode != 201 {
		t.Fatalf("student PUT: %d", r.StatusCode)
	}
	if r, b := e.do(t, teacher, "GET", "/dav/groups/9d/aufgabe.txt", nil); r.StatusCode != 200 || b != "x" {
		t.Fatalf("teacher GET: %d", r.StatusCode)
	}
	if r, _ := e.do(t, adm, "GET", "/dav/groups/9d/aufgabe.txt", nil); r.StatusCode != 404 {
		t.Fatalf("admin GET: %d", r.StatusCode)
	}
	if r, b := e.do(t, adm, "PROPFIND", "/dav/groups/", nil, "Depth", "1"); r.StatusCode != 207 || strings.Contains(b, "9d") {
		t.Fatalf("admin PROPFIND: %d %s", r.StatusCode, b)
	}
	// Removed from the group: the folder is gone for her at once.
	if _, err := e.st.RemoveFromGroup("9d", store.AsMember, s); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.do(t, s, "GET", "/dav/groups/9d/aufgabe.txt", nil); r.StatusCode != 404 {
		t.Fatalf("GET after removal from group: %d", r.StatusCode)
	}
}
