package davd

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// TestHTTPSemantics covers the gaps of x/net/webdav that davd closes.
func TestHTTPSemantics(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Hella", "Http", policy.Student)
	r, _ := e.do(t, u, "PUT", "/dav/home/a.txt", strings.NewReader("0123456789"))
	if r.StatusCode != 201 {
		t.Fatalf("PUT: %d", r.StatusCode)
	}
	r, body := e.do(t, u, "GET", "/dav/home/a.txt", nil)
	etag, lm := r.Header.Get("ETag"), r.Header.Get("Last-Modified")
	if r.StatusCode != 200 || body != "0123456789" || etag == "" || lm == "" || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("GET: %d %q etag=%q lm=%q ct=%q", r.StatusCode, body, etag, lm, r.Header.Get("Content-Type"))
	}
	if r, _ := e.do(t, u, "GET", "/dav/home/a.txt", nil, "If-None-Match", etag); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "GET", "/dav/home/a.txt", nil, "If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)); r.StatusCode != 304 {
		t.Fatalf("If-Modified-Since: %d", r.StatusCode)
	}
	if r, body := e.do(t, u, "GET", "/dav/home/a.txt", nil, "Range", "bytes=2-4"); r.StatusCode != 206 || body != "234" {
		t.Fatalf("Range: %d %q", r.StatusCode, body)
	}
	// If-Match on PUT (golang/go#44492).
	if r, _ := e.do(t, u, "PUT", "/dav/home/a.txt", strings.NewReader("new"), "If-Match", `"nope"`); r.StatusCode != 412 {
		t.Fatalf("PUT If-Match wrong: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "PUT", "/dav/home/a.txt", strings.NewReader("new"), "If-None-Match", "*"); r.StatusCode != 412 {
		t.Fatalf("PUT If-None-Match *: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "PUT", "/dav/home/a.txt", strings.NewReader("abc"), "If-Match", etag); r.StatusCode != 204 {
		t.Fatalf("PUT If-Match right: %d", r.StatusCode)
	}
	// "*" names only a file that exists: a create-only PUT of a new name
	// passes, an update-only one is refused and creates nothing.
	if r, _ := e.do(t, u, "PUT", "/dav/home/neu.txt", strings.NewReader("neu"), "If-None-Match", "*"); r.StatusCode != 201 {
		t.Fatalf("PUT If-None-Match * of a new file: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "PUT", "/dav/home/fehlt.txt", strings.NewReader("x"), "If-Match", "*"); r.StatusCode != 412 {
		t.Fatalf("PUT If-Match * of a missing file: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "GET", "/dav/home/fehlt.txt", nil); r.StatusCode != 404 {
		t.Fatalf("GET after a refused If-Match * PUT: %d", r.StatusCode)
	}
	// Content-Range on PUT is refused, the file stays.
	if r, _ := e.do(t, u, "PUT", "/dav/home/a.txt", strings.NewReader("zz"), "Content-Range", "bytes 0-1/3"); r.StatusCode != 400 {
		t.Fatalf("PUT Content-Range: %d", r.StatusCode)
	}
	if _, body := e.do(t, u, "GET", "/dav/home/a.txt", nil); body != "abc" {
		t.Fatalf("content after refused partial PUT: %q", body)
	}
	// MOVE without Overwrite replaces (golang/go#66059).
	e.do(t, u, "PUT", "/dav/home/b.txt", strings.NewReader("bbb"))
	if r, _ := e.do(t, u, "MOVE", "/dav/home/b.txt", nil, "Destination", "/dav/home/a.txt"); r.StatusCode != 204 {
		t.Fatalf("MOVE without Overwrite: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "MOVE", "/dav/home/a.txt", nil, "Destination", "/dav/home/c.txt", "Overwrite", "F"); r.StatusCode != 201 {
		t.Fatalf("MOVE to new name with Overwrite F: %d", r.StatusCode)
	}
	// COPY references the same blob, no content copied.
	if r, _ := e.do(t, u, "COPY", "/dav/home/c.txt", nil, "Destination", "/dav/home/d.txt"); r.StatusCode != 201 {
		t.Fatalf("COPY: %d", r.StatusCode)
	}
	c, _ := e.st.FileStat(store.HomeTree(u), "/c.txt")
	d, _ := e.st.FileStat(store.HomeTree(u), "/d.txt")
	if c == nil || d == nil || c.Hash != d.Hash {
		t.Fatalf("COPY entries: %+v %+v", c, d)
	}
	// PROPPATCH persists; the quota properties are protected.
	r, body = e.do(t, u, "PROPPATCH", "/dav/home/d.txt", strings.NewReader(`<?xml version="1.0"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32LastModifiedTime>Thu, 26 Nov 2026 10:00:00 GMT</Z:Win32LastModifiedTime></D:prop></D:set></D:propertyupdate>`))
	if r.StatusCode != 207 || !strings.Contains(body, "200 OK") {
		t.Fatalf("PROPPATCH: %d %s", r.StatusCode, body)
	}
	if d, _ := e.st.FileStat(store.HomeTree(u), "/d.txt"); len(d.Props) != 1 {
		t.Fatalf("dead property not stored: %+v", d.Props)
	}
	r, body = e.do(t, u, "PROPPATCH", "/dav/home/", strings.NewReader(`<?xml version="1.0"?>
<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:quota-available-bytes>1</D:quota-available-bytes></D:prop></D:set></D:propertyupdate>`))
	if r.StatusCode != 207 || !strings.Contains(body, "403") {
		t.Fatalf("PROPPATCH quota: %d %s", r.StatusCode, body)
	}
}

// TestPutRefusedBeforeBody: with Expect: 100-continue the client never
// sends a body the server refuses by its Content-Length.
func TestPutRefusedBeforeBody(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Erst", "Fragen", policy.Student)
	body := &countingReader{r: &pattern{n: limit20 + 1}}
	req, _ := http.NewRequest("PUT", e.srv.URL+"/dav/home/big.bin", body)
	req.ContentLength = limit20 + 1
	req.Header.Set("Expect", "100-continue")
	req.SetBasicAuth(u, testPassword)
	tr := &http.Transport{ExpectContinueTimeout: time.Minute}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), "[SIZE-20MB]") || body.n != 0 {
		t.Fatalf("got %d %q after %d body bytes", resp.StatusCode, b, body.n)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestLockEndsSession: a lock by the admin takes effect on the next
// request although the client's login is cached.
func TestLockEndsSession(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Gesperrt", "Bald", policy.Student)
	if r, _ := e.do(t, u, "PROPFIND", "/dav/home/", nil, "Depth", "0"); r.StatusCode != 207 {
		t.Fatalf("before lock: %d", r.StatusCode)
	}
	if err := e.svc.Lock("test", u, "Test"); err != nil {
		t.Fatal(err)
	}
	if r, body := e.do(t, u, "PROPFIND", "/dav/home/", nil, "Depth", "0"); r.StatusCode != 403 || !strings.Contains(body, "[ACCOUNT-LOCKED]") {
		t.Fatalf("after lock: %d %s", r.StatusCode, body)
	}
}

func TestLockDiscovery(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Lock", "Disco", policy.Student)
	e.do(t, u, "PUT", "/dav/home/doc.odt", strings.NewReader("x"))
	r, _ := e.do(t, u, "LOCK", "/dav/home/doc.odt", strings.NewReader(`<?xml version="1.0"?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>Lock Disco</D:owner></D:lockinfo>`), "Timeout", "Second-600")
	tok := strings.Trim(r.Header.Get("Lock-Token"), "<>")
	if r.StatusCode != 200 || tok == "" {
		t.Fatalf("LOCK: %d", r.StatusCode)
	}
	r, body := e.do(t, u, "PROPFIND", "/dav/home/doc.odt", strings.NewReader(`<?xml version="1.0"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>`), "Depth", "0")
	if r.StatusCode != 207 || !strings.Contains(body, "<D:href>"+tok+"</D:href>") || !strings.Contains(body, "/dav/home/doc.odt") || !strings.Contains(body, "Lock Disco") {
		t.Fatalf("lockdiscovery: %d %s", r.StatusCode, body)
	}
	e.do(t, u, "UNLOCK", "/dav/home/doc.odt", nil, "Lock-Token", "<"+tok+">")
	_, body = e.do(t, u, "PROPFIND", "/dav/home/doc.odt", strings.NewReader(`<?xml version="1.0"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>`), "Depth", "0")
	if strings.Contains(body, tok) {
		t.Fatalf("lockdiscovery after UNLOCK: %s", body)
	}
}

// TestMoveOverwriteKeepsOldOnFailure: a MOVE that replaces a file and then
// fails (group folder full) leaves the old destination in place.
func TestMoveOverwriteKeepsOldOnFailure(t *testing.T) {
	e := newEnv(t)
	q := policy.Quotas{Student: -1, Group: 10}
	e.h.opt.Quotas = &q
	u := e.user(t, "Ueber", "Schreiben", policy.Student, "6e")
	e.do(t, u, "PUT", "/dav/groups/6e/plan.txt", strings.NewReader("old plan"))
	e.do(t, u, "PUT", "/dav/home/plan.txt", strings.NewReader("a much longer new plan"))
	if r, _ := e.do(t, u, "MOVE", "/dav/home/plan.txt", nil, "Destination", "/dav/groups/6e/plan.txt"); r.StatusCode != 507 {
		t.Fatalf("MOVE over quota: %d", r.StatusCode)
	}
	if _, b := e.do(t, u, "GET", "/dav/groups/6e/plan.txt", nil); b != "old plan" {
		t.Fatalf("destination after failed MOVE: %q", b)
	}
	if r, _ := e.do(t, u, "GET", "/dav/home/plan.txt", nil); r.StatusCode != 200 {
		t.Fatalf("source after failed MOVE: %d", r.StatusCode)
	}
	e.do(t, u, "PUT", "/dav/home/plan.txt", strings.NewReader("new plan"))
	if r, _ := e.do(t, u, "MOVE", "/dav/home/plan.txt", nil, "Destination", "/dav/groups/6e/plan.txt"); r.StatusCode != 204 {
		t.Fatalf("MOVE replacing: %d", r.StatusCode)
	}
	if _, b := e.do(t, u, "GET", "/dav/groups/6e/plan.txt", nil); b != "new plan" {
		t.Fatalf("destination after MOVE: %q", b)
	}
	if n, _ := e.st.TreeUsage(store.GroupTree("6e")); n != 8 {
		t.Fatalf("group usage %d", n)
	}
}
