package davd

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"schulhof/policy"
	"schulhof/store"
)

// Every way to add entries to a tree (PUT, MKCOL, COPY, MOVE) meets the
// same bounds: entries per tree and path depth (507 [LIMIT-ENTRIES]: the
// tree is full, as clients understand it) and name length (403
// [LIMIT-NAME]: no retry or cleanup helps). Empty files count too.
func TestTreeBoundsRefused(t *testing.T) {
	e := newEnv(t)
	for k, v := range map[policy.BoundKey]int64{policy.EntriesPerTree: 5, policy.PathDepth: 3, policy.FileNameBytes: 20} {
		if err := e.h.opt.Policy.SetBound(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.AddGroup("test", "8a", "class"); err != nil {
		t.Fatal(err)
	}
	u := e.user(t, "Ida", "Grenz", policy.Student, "8a")
	want := func(what string, status int, rule string, method, path string, hdr ...string) {
		t.Helper()
		var body *strings.Reader
		if method == "PUT" {
			body = strings.NewReader("")
		}
		var r *http.Response
		var text string
		if body != nil {
			r, text = e.do(t, u, method, path, body, hdr...)
		} else {
			r, text = e.do(t, u, method, path, nil, hdr...)
		}
		if r.StatusCode != status || (rule != "" && !strings.Contains(text, "["+rule+"]")) {
			t.Fatalf("%s: %s %s = %d %q, want %d %s", what, method, path, r.StatusCode, text, status, rule)
		}
	}
	long := strings.Repeat("n", 21)
	want("long folder name", 403, "LIMIT-NAME", "MKCOL", "/dav/home/"+long)
	want("long file name", 403, "LIMIT-NAME", "PUT", "/dav/home/"+long+".txt")
	want("mkcol", 201, "", "MKCOL", "/dav/home/a")
	want("mkcol", 201, "", "MKCOL", "/dav/home/a/b")
	want("mkcol", 201, "", "MKCOL", "/dav/home/a/b/c")
	want("fourth level", 507, "LIMIT-ENTRIES", "MKCOL", "/dav/home/a/b/c/d")
	want("file on the fourth level", 507, "LIMIT-ENTRIES", "PUT", "/dav/home/a/b/c/f.txt")
	want("empty file", 201, "", "PUT", "/dav/home/e1.txt")
	want("empty file", 201, "", "PUT", "/dav/home/e2.txt")
	want("sixth entry, empty", 507, "LIMIT-ENTRIES", "PUT", "/dav/home/e3.txt")
	want("sixth entry by MKCOL", 507, "LIMIT-ENTRIES", "MKCOL", "/dav/home/x")
	want("sixth entry by COPY", 507, "LIMIT-ENTRIES", "COPY", "/dav/home/e1.txt", "Destination", "/dav/home/e3.txt")
	want("MOVE to a long name", 403, "LIMIT-NAME", "MOVE", "/dav/home/e1.txt", "Destination", "/dav/home/"+long)
	// a/b/c is 3 levels: at /groups/8a/x/ it would be 4.
	want("mkcol in the group", 201, "", "MKCOL", "/dav/groups/8a/x")
	want("MOVE too deep", 507, "LIMIT-ENTRIES", "MOVE", "/dav/home/a", "Destination", "/dav/groups/8a/x/a")
	for i := range 3 {
		want("group file", 201, "", "PUT", fmt.Sprintf("/dav/groups/8a/g%d", i))
	}
	want("MOVE over the group's entries", 507, "LIMIT-ENTRIES", "MOVE", "/dav/home/a", "Destination", "/dav/groups/8a/a")
	// Nothing of the refused changes is there.
	if n, _ := e.st.TreeEntries(store.HomeTree(u)); n != 5 {
		t.Fatalf("home entries = %d, want 5", n)
	}
	if n, _ := e.st.TreeEntries(store.GroupTree("8a")); n != 4 {
		t.Fatalf("group entries = %d, want 4", n)
	}
	// Removing frees entries at once.
	want("delete", 204, "", "DELETE", "/dav/home/a")
	want("room again", 201, "", "PUT", "/dav/home/e3.txt")
}

func proppatch(props string) *strings.Reader {
	return strings.NewReader(`<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>` +
		props + `</D:prop></D:set></D:propertyupdate>`)
}

// Dead properties are bounded in size and number and count in the quota;
// PROPPATCH refusals are per property in the 207 (403 for a property the
// server will not take, 507 for no room to record it, 424 for the rest),
// naming the rule, and nothing is stored.
func TestDeadPropertyBounds(t *testing.T) {
	e := newEnv(t)
	e.h.opt.Quotas.Student = 2000
	if err := e.h.opt.Policy.SetBound(policy.DeadPropertiesPerItem, 3); err != nil {
		t.Fatal(err)
	}
	u := e.user(t, "Pia", "Prop", policy.Student)
	e.do(t, u, "PUT", "/dav/home/f.txt", strings.NewReader("0123456789"))
	home := store.HomeTree(u)
	patch := func(what, props string, want ...string) {
		t.Helper()
		r, body := e.do(t, u, "PROPPATCH", "/dav/home/f.txt", proppatch(props))
		if r.StatusCode != 207 {
			t.Fatalf("%s: %d %s", what, r.StatusCode, body)
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Fatalf("%s: %q lacks %q", what, body, w)
			}
		}
	}
	big := strings.Repeat("v", 17<<10) // over dead_property_bytes (16 KiB)
	patch("big property", "<Z:small>s</Z:small><Z:big>"+big+"</Z:big>",
		"403 Forbidden", "[LIMIT-PROPS]", "dead_property_bytes", "424 Failed Dependency")
	patch("four properties", "<Z:a>1</Z:a><Z:b>2</Z:b><Z:c>3</Z:c><Z:d>4</Z:d>",
		"507 Insufficient Storage", "[LIMIT-PROPS]", "dead_properties_per_resource")
	if f, _ := e.st.FileStat(home, "/f.txt"); len(f.Props) != 0 {
		t.Fatalf("refused properties stored: %v", f.Props)
	}
	patch("three properties", "<Z:a>1</Z:a><Z:b>2</Z:b><Z:c>3</Z:c>", "200 OK")
	// A listing reads them per entry.
	if r, body := e.do(t, u, "PROPFIND", "/dav/home/", strings.NewReader(propfindBody), "Depth", "1"); r.StatusCode != 207 || !strings.Contains(body, "urn:z") {
		t.Fatalf("PROPFIND of the folder: %d %s", r.StatusCode, body)
	}
	// 10 bytes of content and 3 × (5 + 1 + 1) of properties.
	if n, _ := e.st.TreeUsage(home); n != 10+21 {
		t.Fatalf("usage = %d, want 31", n)
	}
	patch("over the quota", "<Z:a>"+strings.Repeat("q", 15<<10)+"</Z:a>",
		"507 Insufficient Storage", "[QUOTA]")
	if n, _ := e.st.TreeUsage(home); n != 31 {
		t.Fatalf("usage after refusal = %d, want 31", n)
	}
	// A COPY brings the properties along and is charged for them.
	if r, _ := e.do(t, u, "COPY", "/dav/home/f.txt", nil, "Destination", "/dav/home/g.txt"); r.StatusCode != 201 {
		t.Fatalf("COPY: %d", r.StatusCode)
	}
	if n, _ := e.st.TreeUsage(home); n != 62 {
		t.Fatalf("usage after COPY = %d, want 62", n)
	}
	if r, _ := e.do(t, u, "DELETE", "/dav/home/f.txt", nil); r.StatusCode != 204 {
		t.Fatalf("DELETE: %d", r.StatusCode)
	}
	if n, _ := e.st.TreeUsage(home); n != 31 {
		t.Fatalf("usage after DELETE = %d, want 31", n)
	}
}

// Small files are kept inline in the database: GET serves them with
// ETag, conditional requests and ranges, COPY and MOVE keep one copy,
// DELETE removes the content.
func TestSmallFileInline(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Ina", "Klein", policy.Student)
	content := strings.Repeat("0123456789abcdef", 256) // 4 KiB
	if r, _ := e.do(t, u, "PUT", "/dav/home/k.txt", strings.NewReader(content)); r.StatusCode != 201 {
		t.Fatalf("PUT: %d", r.StatusCode)
	}
	r, body := e.do(t, u, "GET", "/dav/home/k.txt", nil, "Range", "bytes=16-31")
	if r.StatusCode != 206 || body != "0123456789abcdef" {
		t.Fatalf("range: %d %q", r.StatusCode, body)
	}
	etag := r.Header.Get("ETag")
	if r, _ := e.do(t, u, "GET", "/dav/home/k.txt", nil, "If-None-Match", etag); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "COPY", "/dav/home/k.txt", nil, "Destination", "/dav/home/k2.txt"); r.StatusCode != 201 {
		t.Fatalf("COPY: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "MOVE", "/dav/home/k2.txt", nil, "Destination", "/dav/home/k3.txt"); r.StatusCode != 201 {
		t.Fatalf("MOVE: %d", r.StatusCode)
	}
	if _, body := e.do(t, u, "GET", "/dav/home/k3.txt", nil); body != content {
		t.Fatalf("GET of the moved copy: %d bytes", len(body))
	}
	if n, _ := e.st.TreeUsage(store.HomeTree(u)); n != 2*4096 {
		t.Fatalf("usage = %d", n)
	}
	if n, _ := e.st.BlobCount(); n != 1 {
		t.Fatalf("contents = %d, want 1 (shared)", n)
	}
	f, _ := e.st.FileStat(store.HomeTree(u), "/k.txt")
	e.do(t, u, "DELETE", "/dav/home/k.txt", nil)
	e.do(t, u, "DELETE", "/dav/home/k3.txt", nil)
	if n, _ := e.st.BlobCount(); n != 0 {
		t.Fatalf("contents after DELETE = %d", n)
	}
	if _, err := e.st.OpenContent(f.Hash); err == nil {
		t.Fatal("deleted content still readable")
	}
}

// A COPY of a folder that cannot fit is refused before anything is
// copied (the library copies entry by entry and would stop halfway).
func TestCopyFolderRefusedWhole(t *testing.T) {
	e := newEnv(t)
	if err := e.h.opt.Policy.SetBound(policy.EntriesPerTree, 6); err != nil {
		t.Fatal(err)
	}
	u := e.user(t, "Cora", "Kopie", policy.Student)
	e.do(t, u, "MKCOL", "/dav/home/src", nil)
	for i := range 3 {
		e.do(t, u, "PUT", fmt.Sprintf("/dav/home/src/f%d", i), strings.NewReader("x"))
	}
	r, body := e.do(t, u, "COPY", "/dav/home/src", nil, "Destination", "/dav/home/dst")
	if r.StatusCode != 507 || !strings.Contains(body, "[LIMIT-ENTRIES]") {
		t.Fatalf("COPY over the bound: %d %q", r.StatusCode, body)
	}
	if _, err := e.st.FileStat(store.HomeTree(u), "/dst"); err == nil {
		t.Fatal("a refused COPY left a partial copy")
	}
	e.h.opt.Quotas.Student = 5
	e.h.opt.Policy.SetBound(policy.EntriesPerTree, 100)
	if r, body := e.do(t, u, "COPY", "/dav/home/src", nil, "Destination", "/dav/home/dst"); r.StatusCode != 507 || !strings.Contains(body, "[QUOTA]") {
		t.Fatalf("COPY over the quota: %d %q", r.StatusCode, body)
	}
	e.h.opt.Quotas.Student = 100
	if r, _ := e.do(t, u, "COPY", "/dav/home/src", nil, "Destination", "/dav/home/dst"); r.StatusCode != 201 {
		t.Fatalf("COPY that fits: %d", r.StatusCode)
	}
	if n, _ := e.st.TreeEntries(store.HomeTree(u)); n != 8 {
		t.Fatalf("entries = %d, want 8", n)
	}
}
