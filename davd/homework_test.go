package davd

import (
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// handinEnv: 5a with teacher Eva and pupils Max and Zoë, who both handed
// in for one task; 5b with its own teacher and pupil.
func handinEnv(t *testing.T, mods map[policy.Module]policy.ModuleSetting) (e *env, id uint64, eva, maxN, zoe, bob, otto string) {
	t.Helper()
	e = newEnvModules(t, mods)
	eva = e.user(t, "Eva", "Lang", policy.Teacher, "5a")
	maxN = e.user(t, "Max", "Müller", policy.Student, "5a")
	zoe = e.user(t, "Zoe", "Gross", policy.Student, "5a")
	bob = e.user(t, "Bob", "B", policy.Student, "5b")
	otto = e.user(t, "Otto", "O", policy.Teacher, "5b")
	now := time.Now()
	tk, err := e.st.CreateTask(store.Task{Group: "5a", Title: "Aufsatz", Creator: eva, Created: now, Due: now.Add(96 * time.Hour), Announced: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []struct{ who, name, content string }{{maxN, "max-loesung.txt", "MAX-SECRET"}, {zoe, "zoe.txt", "ZOE-SECRET"}} {
		pb, err := e.st.WriteContent(strings.NewReader(h.content), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.HandIn(tk.ID, h.who, h.name, pb, now, store.HandinLimits{Files: -1, Quota: -1}); err != nil {
			t.Fatal(err)
		}
		pb.Release()
	}
	return e, tk.ID, eva, maxN, zoe, bob, otto
}

// TestHandinsOverDAV: the group's teacher lists and reads every hand-in;
// a pupil sees only her own, by no path (GET, HEAD, PROPFIND at every
// depth from every level, odd spellings of the path), and pupils and
// teachers of another group see nothing of 5a; nothing below /abgaben can
// be written.
func TestHandinsOverDAV(t *testing.T) {
	e, id, eva, maxN, zoe, bob, otto := handinEnv(t, nil)
	task := fmt.Sprintf("/dav/abgaben/5a/%d/", id)

	r, body := e.do(t, eva, "PROPFIND", task, nil, "Depth", "1")
	if r.StatusCode != 207 || !contains(body, "/"+maxN+"/") || !contains(body, "/"+zoe+"/") {
		t.Fatalf("teacher's listing: %d %s", r.StatusCode, body)
	}
	for who, want := range map[string]string{maxN + "/max-loesung.txt": "MAX-SECRET", zoe + "/zoe.txt": "ZOE-SECRET"} {
		if r, body := e.do(t, eva, "GET", task+who, nil); r.StatusCode != 200 || body != want {
			t.Fatalf("teacher GET %s: %d %q", who, r.StatusCode, body)
		}
	}
	r, body = e.do(t, maxN, "PROPFIND", task, nil, "Depth", "1")
	if r.StatusCode != 207 || !contains(body, "/"+maxN+"/") || contains(body, zoe) {
		t.Fatalf("max's listing of the task: %d %s", r.StatusCode, body)
	}
	if r, body := e.do(t, maxN, "GET", task+maxN+"/max-loesung.txt", nil); r.StatusCode != 200 || body != "MAX-SECRET" {
		t.Fatalf("max's own file: %d %q", r.StatusCode, body)
	}
	// Every way Max might name Zoë's hand-in.
	zoeFile := zoe + "/zoe.txt"
	for _, p := range []string{
		task + zoeFile, task + zoe + "/", task + zoe,
		fmt.Sprintf("/dav/abgaben/5a/0%d/%s", id, zoeFile), fmt.Sprintf("/dav/abgaben//5a/%d/%s", id, zoeFile),
		fmt.Sprintf("/dav/abgaben/5a/%d//%s", id, zoeFile), fmt.Sprintf("/dav/abgaben/5a/+%d/%s", id, zoeFile),
		task + strings.ToUpper(zoe) + "/zoe.txt", task + "%7a" + zoe[1:] + "/zoe.txt",
		fmt.Sprintf("/dav/abgaben/5b/%d/%s", id, zoeFile),
		fmt.Sprintf("/dav/groups/5a/%d/%s", id, zoeFile),
	} {
		for _, m := range []string{"GET", "HEAD", "PROPFIND"} {
			r, body := e.do(t, maxN, m, p, nil, "Depth", "1")
			if r.StatusCode != http.StatusNotFound || contains(body, "ZOE-SECRET") || contains(body, "zoe.txt") {
				t.Errorf("max %s %s: %d %s", m, p, r.StatusCode, body)
			}
		}
	}
	// Everything Max can reach by walking the tree from /dav/ (the
	// server refuses Depth: infinity, so a client walks level by level).
	seen := e.walk(t, maxN, "/dav/")
	if !seen[task+maxN+"/max-loesung.txt"] {
		t.Errorf("max's walk misses his own file: %v", seen)
	}
	for p := range seen {
		if contains(p, zoe) {
			t.Errorf("max's walk reached %s", p)
		}
	}
	if code, body := e.rawRequest(t, maxN, "GET", task+maxN+"/../"+zoeFile); code == 200 || contains(body, "ZOE-SECRET") {
		t.Errorf("dot-dot path: %d %s", code, body)
	}
	// Another group's pupil and teacher: nothing of 5a.
	for _, who := range []string{bob, otto} {
		for _, p := range []string{"/dav/abgaben/5a/", task, task + zoeFile, task + maxN + "/max-loesung.txt"} {
			if r, _ := e.do(t, who, "PROPFIND", p, nil, "Depth", "0"); r.StatusCode != http.StatusNotFound {
				t.Errorf("%s PROPFIND %s: %d", who, p, r.StatusCode)
			}
		}
		for p := range e.walk(t, who, "/dav/") {
			if contains(p, "/abgaben/5a") {
				t.Errorf("%s reached %s", who, p)
			}
		}
	}
	// Read-only: no write reaches a hand-in, not even one's own.
	own := task + maxN + "/max-loesung.txt"
	for _, w := range []struct {
		method, path string
		hdr          []string
	}{
		{"PUT", own, nil}, {"PUT", task + maxN + "/neu.txt", nil}, {"PUT", task + zoe + "/neu.txt", nil},
		{"DELETE", own, nil}, {"DELETE", task + zoeFile, nil}, {"MKCOL", task + maxN + "/ordner", nil},
		{"MOVE", own, []string{"Destination", e.srv.URL + "/dav/home/weg.txt"}},
		{"COPY", "/dav/home/", []string{"Destination", e.srv.URL + task + maxN + "/kopie"}},
		{"PROPPATCH", own, nil}, {"LOCK", own, nil},
	} {
		r, _ := e.do(t, maxN, w.method, w.path, strings.NewReader("x"), w.hdr...)
		if r.StatusCode < 400 {
			t.Errorf("max %s %s: %d", w.method, w.path, r.StatusCode)
		}
		r, _ = e.do(t, eva, w.method, w.path, strings.NewReader("x"), w.hdr...)
		if r.StatusCode < 400 {
			t.Errorf("teacher %s %s: %d", w.method, w.path, r.StatusCode)
		}
	}
	if h, _ := e.st.Handin(id, maxN); len(h.Files) != 1 || h.Files[0].Name != "max-loesung.txt" {
		t.Fatalf("a write changed max's hand-in: %+v", h)
	}
	if h, _ := e.st.Handin(id, zoe); len(h.Files) != 1 {
		t.Fatalf("a write changed zoë's hand-in: %+v", h)
	}
	if _, err := e.st.FileStat(store.HomeTree(maxN), "/weg.txt"); err == nil {
		t.Fatal("MOVE out of the hand-ins")
	}
}

// TestHandinsWithCurl: the same with a real client.
func TestHandinsWithCurl(t *testing.T) {
	curl := tool(t, "curl")
	e, id, eva, maxN, zoe, _, _ := handinEnv(t, nil)
	task := fmt.Sprintf("%s/dav/abgaben/5a/%d/", e.srv.URL, id)
	run := func(user string, args ...string) (string, string) {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-s", "-u", user + ":" + testPassword, "-w", "\n%{http_code}"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		s := string(out)
		i := strings.LastIndexByte(s, '\n')
		return s[:i], s[i+1:]
	}
	if body, code := run(eva, task+zoe+"/zoe.txt"); code != "200" || body != "ZOE-SECRET" {
		t.Fatalf("teacher curl GET: %s %q", code, body)
	}
	if body, code := run(eva, "-X", "PROPFIND", "-H", "Depth: 1", task); code != "207" || !contains(body, zoe) || !contains(body, maxN) {
		t.Fatalf("teacher curl PROPFIND: %s %s", code, body)
	}
	if body, code := run(maxN, task+zoe+"/zoe.txt"); code != "404" || contains(body, "ZOE-SECRET") {
		t.Fatalf("max curl GET of zoë's file: %s %q", code, body)
	}
	if body, code := run(maxN, "-X", "PROPFIND", "-H", "Depth: 1", task+maxN+"/"); code != "207" || contains(body, zoe) || !contains(body, "max-loesung.txt") {
		t.Fatalf("max curl PROPFIND: %s %s", code, body)
	}
	if body, code := run(maxN, "-X", "PROPFIND", "-H", "Depth: 1", task); code != "207" || contains(body, zoe) || !contains(body, maxN) {
		t.Fatalf("max curl PROPFIND: %s %s", code, body)
	}
}

// TestHandinsModuleOff: with Hausaufgaben off the folder is gone.
func TestHandinsModuleOff(t *testing.T) {
	mods := map[policy.Module]policy.ModuleSetting{policy.ModuleFiles: {On: true}, policy.ModuleHomework: {On: false}}
	e, id, eva, _, _, _, _ := handinEnv(t, mods)
	if r, body := e.do(t, eva, "PROPFIND", "/dav/", nil, "Depth", "1"); r.StatusCode != 207 || contains(body, "abgaben") {
		t.Fatalf("root with homework off: %d %s", r.StatusCode, body)
	}
	if r, _ := e.do(t, eva, "PROPFIND", fmt.Sprintf("/dav/abgaben/5a/%d/", id), nil, "Depth", "1"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("hand-ins with homework off: %d", r.StatusCode)
	}
}

// walk lists everything user reaches from root by PROPFIND Depth: 1,
// folder by folder, and GETs every file; it returns the paths seen.
func (e *env) walk(t *testing.T, user, root string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	queue := []string{root}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		r, body := e.do(t, user, "PROPFIND", dir, nil, "Depth", "1")
		if r.StatusCode != 207 {
			t.Fatalf("%s PROPFIND %s: %d", user, dir, r.StatusCode)
		}
		for _, part := range strings.Split(body, "<D:href>")[1:] {
			href, _, _ := strings.Cut(part, "</D:href>")
			if u, err := url.PathUnescape(href); err == nil {
				href = u
			}
			if seen[href] {
				continue
			}
			seen[href] = true
			if strings.HasSuffix(href, "/") {
				if href != dir {
					queue = append(queue, href)
				}
				continue
			}
			if r, _ := e.do(t, user, "GET", href, nil); r.StatusCode != 200 {
				t.Errorf("%s GET %s (listed): %d", user, href, r.StatusCode)
			}
		}
	}
	return seen
}

// TestHandinsShareTheQuota: what a pupil handed in counts against her
// home folder's quota over WebDAV (the portal counts it the other way).
func TestHandinsShareTheQuota(t *testing.T) {
	e, _, _, maxN, _, _, _ := handinEnv(t, nil)
	q := policy.Quotas{Student: 100, Teacher: -1, Group: -1}
	e.h.opt.Quotas = &q
	// max handed in 10 bytes ("MAX-SECRET"): 90 are left at home
	if code, body := e.put(t, maxN, "/dav/home/a", 91, false); code != http.StatusInsufficientStorage || !strings.Contains(body, "[QUOTA]") {
		t.Fatalf("home PUT over quota minus hand-ins: %d %s", code, body)
	}
	if code, _ := e.put(t, maxN, "/dav/home/a", 90, false); code != 201 {
		t.Fatalf("home PUT within quota minus hand-ins: %d", code)
	}
	r, body := e.do(t, maxN, "PROPFIND", "/dav/home/", strings.NewReader(`<?xml version="1.0"?>
<propfind xmlns="DAV:"><prop><quota-available-bytes/></prop></propfind>`), "Depth", "0")
	if r.StatusCode != 207 || !contains(body, ">0</") {
		t.Fatalf("available after the hand-in: %s", body)
	}
}
