package davd

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
)

// stalledBody sends head, then blocks until the test ends: a server that
// waits for the rest of a body never answers.
type stalledBody struct {
	head io.Reader
	done <-chan struct{}
}

func (b *stalledBody) Read(p []byte) (int, error) {
	if n, err := b.head.Read(p); err != io.EOF {
		return n, err
	}
	<-b.done
	return 0, io.ErrUnexpectedEOF
}

// sendStalled sends method with a body of which only the first sent bytes
// ever arrive; declared is its Content-Length (-1: chunked).
func (e *env) sendStalled(t *testing.T, user, method, path string, sent, declared int64) (int, string) {
	t.Helper()
	// The deadline only turns a server that waits forever into a failure;
	// the body ends when the request does.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	body := &stalledBody{head: strings.NewReader(`<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:">` +
		strings.Repeat("x", int(sent))), done: ctx.Done()}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, testPassword)
	req.ContentLength = declared
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestXMLBodyBound: every XML body over xml_body_bytes is refused with 413
// naming LIMIT-XML: with a Content-Length before a byte of it is read,
// chunked as soon as the bound is passed. The bodies here never end, so a
// server that reads on never answers.
func TestXMLBodyBound(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Xml", "Riese", policy.Student)
	if r, _ := e.do(t, u, "PUT", "/dav/home/f.txt", strings.NewReader("x")); r.StatusCode != 201 {
		t.Fatal(r.StatusCode)
	}
	limit := e.h.opt.Policy.Bound(policy.XMLBodyBytes)
	for _, m := range []string{"PROPPATCH", "PROPFIND", "LOCK"} {
		// 30 MB announced, 1 KB sent.
		if code, body := e.sendStalled(t, u, m, "/dav/home/f.txt", 1024, 30_000_000); code != 413 || !contains(body, "[LIMIT-XML]") {
			t.Errorf("%s with Content-Length 30 MB: %d %q", m, code, body)
		}
		// Chunked: the bound plus a byte sent, then nothing more.
		if code, body := e.sendStalled(t, u, m, "/dav/home/f.txt", limit+1, -1); code != 413 || !contains(body, "[LIMIT-XML]") {
			t.Errorf("%s chunked over the bound: %d %q", m, code, body)
		}
	}
	// Other methods' bodies are bounded too.
	for _, m := range []string{"DELETE", "COPY", "MOVE", "UNLOCK", "OPTIONS"} {
		if code, body := e.sendStalled(t, u, m, "/dav/home/f.txt", 1024, 30_000_000); code != 413 || !contains(body, "[LIMIT-XML]") {
			t.Errorf("%s with Content-Length 30 MB: %d %q", m, code, body)
		}
	}
	// A whole 30 MB PROPPATCH (it used to answer 500).
	req, _ := http.NewRequest("PROPPATCH", e.srv.URL+"/dav/home/f.txt", io.NopCloser(&pattern{n: 30_000_000}))
	req.SetBasicAuth(u, testPassword)
	req.ContentLength = 30_000_000
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 413 {
		t.Errorf("30 MB PROPPATCH: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// At the bound is fine: a PROPFIND padded with white space to the limit.
	pf := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`
	pf += strings.Repeat(" ", int(limit)-len(pf))
	if r, body := e.do(t, u, "PROPFIND", "/dav/home/f.txt", strings.NewReader(pf), "Depth", "0"); r.StatusCode != 207 {
		t.Errorf("PROPFIND at the bound: %d %s", r.StatusCode, body)
	}
}

// TestMkcolWithBody: RFC 4918 9.3.1, 415 for a MKCOL body, chunked too.
func TestMkcolWithBody(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Mk", "Col", policy.Student)
	if r, _ := e.do(t, u, "MKCOL", "/dav/home/a", strings.NewReader("<x/>")); r.StatusCode != 415 {
		t.Errorf("MKCOL with Content-Length body: %d", r.StatusCode)
	}
	req, _ := http.NewRequest("MKCOL", e.srv.URL+"/dav/home/b", io.NopCloser(strings.NewReader("<x/>")))
	req.SetBasicAuth(u, testPassword)
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Errorf("MKCOL with chunked body: %d", resp.StatusCode)
	}
	if r, _ := e.do(t, u, "PROPFIND", "/dav/home/b", nil, "Depth", "0"); r.StatusCode != 404 {
		t.Errorf("refused MKCOL created the folder: %d", r.StatusCode)
	}
	if r, _ := e.do(t, u, "MKCOL", "/dav/home/c", nil); r.StatusCode != 201 {
		t.Errorf("MKCOL without body: %d", r.StatusCode)
	}
}

// TestXMLNamespaces: bodies that break Namespaces in XML are 400, for
// every XML method (litmus propfind_invalid2 is one case).
func TestXMLNamespaces(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Name", "Raum", policy.Student)
	if r, _ := e.do(t, u, "PUT", "/dav/home/f.txt", strings.NewReader("x")); r.StatusCode != 201 {
		t.Fatal(r.StatusCode)
	}
	bad := map[string]string{
		"empty prefix":      `<D:propfind xmlns:D="DAV:"><D:prop><bar:foo xmlns:bar=""/></D:prop></D:propfind>`,
		"undeclared":        `<D:propfind xmlns:D="DAV:"><D:prop><bar:foo/></D:prop></D:propfind>`,
		"undeclared root":   `<D:propfind><D:prop/></D:propfind>`,
		"undeclared attr":   `<D:propfind xmlns:D="DAV:" x:a="1"><D:allprop/></D:propfind>`,
		"prefix out of use": `<D:propfind xmlns:D="DAV:"><D:prop><a:x xmlns:a="urn:a"/><a:y/></D:prop></D:propfind>`,
	}
	for name, body := range bad {
		for _, m := range []string{"PROPFIND", "PROPPATCH", "LOCK"} {
			if r, _ := e.do(t, u, m, "/dav/home/f.txt", strings.NewReader(body), "Depth", "0"); r.StatusCode != 400 {
				t.Errorf("%s %s: %d", m, name, r.StatusCode)
			}
		}
	}
	good := `<propfind xmlns="DAV:" xmlns:z="urn:z"><prop><z:x/><y xmlns=""/></prop></propfind>`
	if r, body := e.do(t, u, "PROPFIND", "/dav/home/f.txt", strings.NewReader(good), "Depth", "0"); r.StatusCode != 207 {
		t.Errorf("valid PROPFIND: %d %s", r.StatusCode, body)
	}
}
