package davd

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"

	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// TestUserContentInert: a pupil's active file in the class folder, opened
// by the teacher, is downloaded with nosniff and a sandboxing CSP, its type
// from the table; passive types still open inline.
func TestUserContentInert(t *testing.T) {
	e := newEnv(t)
	pupil := e.user(t, "Paul", "Pupil", policy.Student, "7c")
	teacher := e.user(t, "Tina", "Teacher", policy.Teacher, "7c")
	script := "<script>fetch('/passwort',{method:'POST'})</script>"
	cases := []struct {
		name, body, ctype, kind string
	}{
		{"a.html", script, "text/html; charset=utf-8", "attachment"},
		{"b.HTM", script, "text/html; charset=utf-8", "attachment"},
		{"c.xhtml", `<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>`, "application/xhtml+xml", "attachment"},
		{"d.svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, "image/svg+xml", "attachment"},
		{"e.xml", `<?xml-stylesheet href="x.xsl"?><x/>`, "application/xml", "attachment"},
		{"f.js", "alert(1)", "text/javascript; charset=utf-8", "attachment"},
		{"g.mjs", "export default 1", "text/javascript; charset=utf-8", "attachment"},
		{"ohne-endung", "<html>" + script, "application/octet-stream", "attachment"},
		{`Zitat "böse"; filename=x.html`, script, "text/html; charset=utf-8", "attachment"},
		{"100%.svg", "<svg/>", "image/svg+xml", "attachment"},
		{"Referat.pdf", "%PDF-1.4\n" + script, "application/pdf", "inline"},
		{"Bild.png", "\x89PNG\r\n\x1a\n" + script, "image/png", "inline"},
		{"notiz.txt", script, "text/plain; charset=utf-8", "inline"},
	}
	for _, c := range cases {
		p := "/dav/groups/7c/" + (&url.URL{Path: c.name}).EscapedPath()
		if r, _ := e.do(t, pupil, "PUT", p, strings.NewReader(c.body), "Content-Type", "text/html"); r.StatusCode != 201 {
			t.Fatalf("PUT %q: %d", c.name, r.StatusCode)
		}
		for _, method := range []string{"GET", "HEAD"} {
			r, body := e.do(t, teacher, method, p, nil)
			if r.StatusCode != 200 {
				t.Fatalf("%s %q: %d", method, c.name, r.StatusCode)
			}
			h := r.Header
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "default-src 'none'; sandbox" {
				t.Errorf("%s %q: not inert: %v", method, c.name, h)
			}
			if got := h.Get("Content-Type"); got != c.ctype {
				t.Errorf("%s %q: Content-Type %q, want %q", method, c.name, got, c.ctype)
			}
			kind, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
			if err != nil || kind != c.kind || params["filename"] != c.name {
				t.Errorf("%s %q: Content-Disposition %q (%v): %s %q", method, c.name, h.Get("Content-Disposition"), err, kind, params["filename"])
			}
			if method == "GET" && body != c.body {
				t.Errorf("GET %q: body %q", c.name, body)
			}
		}
	}
	// Listings and errors under /dav/ carry the same guard.
	r, _ := e.do(t, teacher, "PROPFIND", "/dav/groups/7c/", nil, "Depth", "1")
	if r.Header.Get("Content-Security-Policy") != usercontent.CSP || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("PROPFIND: %v", r.Header)
	}
	r, _ = e.do(t, teacher, "GET", "/dav/groups/7c/fehlt.html", nil)
	if r.StatusCode != 404 || r.Header.Get("Content-Security-Policy") != usercontent.CSP {
		t.Errorf("404: %d %v", r.StatusCode, r.Header)
	}
}

// TestRangeBounds: more ranges than ranges_per_request or more overlaps
// than overlapping_ranges get the whole file (200), as Apache answers;
// within the bounds ranges are served as parts.
func TestRangeBounds(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Rita", "Range", policy.Student)
	content := strings.Repeat("0123456789", 10_000) // 100,000 bytes
	if r, _ := e.do(t, u, "PUT", "/dav/home/r.bin", strings.NewReader(content)); r.StatusCode != 201 {
		t.Fatalf("PUT: %d", r.StatusCode)
	}
	ranges := func(n int, spec func(i int) string) string {
		s := make([]string, n)
		for i := range s {
			s[i] = spec(i)
		}
		return "bytes=" + strings.Join(s, ",")
	}
	eng := policy.NewEngine() // the defaults newEnv runs with
	maxRanges, maxOverlaps := int(eng.Bound(policy.RangesPerRequest)), int(eng.Bound(policy.OverlappingRanges))
	disjoint := func(i int) string { return fmt.Sprintf("%d-%d", i*10, i*10) }
	overlapping := func(i int) string { return fmt.Sprintf("%d-%d", i, i+100) }
	cases := []struct {
		what, header  string
		status, parts int
	}{
		{"5,000 overlapping", ranges(5000, func(int) string { return "0-0" }), 200, 0},
		{"5,000 disjoint", ranges(5000, disjoint), 200, 0},
		{"201 disjoint", ranges(maxRanges+1, disjoint), 200, 0},
		{"200 disjoint", ranges(maxRanges, disjoint), 206, maxRanges},
		{"21 overlapping", ranges(maxOverlaps+2, overlapping), 200, 0}, // n ranges, n-1 overlaps
		{"20 overlapping", ranges(maxOverlaps+1, overlapping), 206, maxOverlaps + 1},
		{"suffix overlaps", "bytes=" + strings.TrimSuffix(strings.Repeat("-10,", 22), ","), 200, 0},
		{"one range", "bytes=5-9", 206, 1},
	}
	for _, c := range cases {
		r, body := e.do(t, u, "GET", "/dav/home/r.bin", nil, "Range", c.header)
		if r.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.what, r.StatusCode, c.status)
			continue
		}
		switch {
		case c.status == 200:
			if body != content {
				t.Errorf("%s: not the whole file (%d bytes)", c.what, len(body))
			}
		case c.parts == 1:
			if body != content[5:10] {
				t.Errorf("%s: %q", c.what, body)
			}
		default:
			_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
			mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
			n := 0
			for {
				if _, err := mr.NextPart(); err != nil {
					if err != io.EOF {
						t.Fatalf("%s: %v", c.what, err)
					}
					break
				}
				n++
			}
			if n != c.parts {
				t.Errorf("%s: %d parts, want %d", c.what, n, c.parts)
			}
		}
	}
}

// TestGetRacesDelete: a file deleted or replaced by another client between
// the GET's lookup and its open gives a clean 404 or the new content,
// never a 500.
func TestGetRacesDelete(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Rene", "Race", policy.Student)
	tree := store.HomeTree(u)
	put := func(body string) {
		t.Helper()
		if r, _ := e.do(t, u, "PUT", "/dav/home/x.txt", strings.NewReader(body)); r.StatusCode != 201 && r.StatusCode != 204 {
			t.Fatalf("PUT: %d", r.StatusCode)
		}
	}
	once := func(f func()) func() {
		done := false
		return func() {
			if !done {
				done = true
				f()
			}
		}
	}

	put("alt")
	e.h.beforeOpen = once(func() {
		if err := e.st.FileRemove(tree, "/x.txt"); err != nil {
			t.Errorf("remove: %v", err)
		}
	})
	for _, method := range []string{"GET", "HEAD"} {
		if method == "HEAD" {
			put("alt")
			e.h.beforeOpen = once(func() { e.st.FileRemove(tree, "/x.txt") })
		}
		r, body := e.do(t, u, method, "/dav/home/x.txt", nil)
		if r.StatusCode != 404 || strings.Contains(body, "internal") {
			t.Fatalf("%s of a file deleted before its open: %d %q", method, r.StatusCode, body)
		}
	}

	put("alt")
	e.h.beforeOpen = once(func() {
		r, _ := e.do(t, u, "PUT", "/dav/home/x.txt", strings.NewReader("neu"))
		if r.StatusCode != 204 {
			t.Errorf("replacing PUT: %d", r.StatusCode)
		}
	})
	if r, body := e.do(t, u, "GET", "/dav/home/x.txt", nil); r.StatusCode != 200 || body != "neu" {
		t.Fatalf("GET of a file replaced before its open: %d %q", r.StatusCode, body)
	}
	e.h.beforeOpen = nil
}
