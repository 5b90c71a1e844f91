package davd

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

const limit20 = 20 << 20

// pattern is n deterministic bytes that are never all in memory.
type pattern struct{ n, off int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		b[i] = byte((p.off + int64(i)) * 7 % 251)
	}
	p.off += int64(len(b))
	return len(b), nil
}

// put uploads n bytes; chunked leaves out Content-Length.
func (e *env) put(t *testing.T, user, path string, n int64, chunked bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest("PUT", e.srv.URL+path, io.NopCloser(&pattern{n: n}))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, testPassword)
	req.ContentLength = n
	if chunked {
		req.ContentLength = -1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The server may close the connection while we still send the
		// refused body; the status then is the one it answered.
		t.Fatalf("PUT %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSize20MB(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Gross", "Datei", policy.Student)
	for _, chunked := range []bool{false, true} {
		name := "/dav/home/len.bin"
		if chunked {
			name = "/dav/home/chunked.bin"
		}
		if code, body := e.put(t, u, name, 5, chunked); code != http.StatusCreated {
			t.Fatalf("small PUT (chunked=%v): %d %s", chunked, code, body)
		}
		if code, body := e.put(t, u, name, limit20+1, chunked); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "[SIZE-20MB]") {
			t.Fatalf("20 MiB + 1 (chunked=%v): %d %q", chunked, code, body)
		}
		// The refused upload left the old version intact.
		if resp, body := e.do(t, u, "GET", name, nil); resp.StatusCode != 200 || len(body) != 5 {
			t.Fatalf("old version after refusal (chunked=%v): %d len %d", chunked, resp.StatusCode, len(body))
		}
		if code, body := e.put(t, u, name, limit20, chunked); code != http.StatusNoContent {
			t.Fatalf("exactly 20 MiB (chunked=%v): %d %s", chunked, code, body)
		}
		resp, err := http.NewRequest("GET", e.srv.URL+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.SetBasicAuth(u, testPassword)
		r, err := http.DefaultClient.Do(resp)
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.New()
		n, _ := io.Copy(got, r.Body)
		r.Body.Close()
		want := sha256.New()
		io.Copy(want, &pattern{n: limit20})
		if n != limit20 || hex.EncodeToString(got.Sum(nil)) != hex.EncodeToString(want.Sum(nil)) {
			t.Fatalf("GET 20 MiB (chunked=%v): %d bytes, content differs", chunked, n)
		}
	}
	// Nothing of the refused uploads is left on disk.
	tmp, _ := os.ReadDir(filepath.Join(e.st.Dir(), "blobs", "tmp"))
	if len(tmp) != 0 {
		t.Fatalf("blobs/tmp holds %d files", len(tmp))
	}
	if n, _ := e.st.BlobCount(); n != 1 { // both files hold the same 20 MiB
		t.Fatalf("blob count = %d, want 1", n)
	}
}

func TestSizeException(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Film", "Projekt", policy.Student)
	e.svc.Now = e.clock
	if _, err := e.svc.AddException("test", u, 30<<20, e.clock().Add(time.Hour), "Filmprojekt"); err != nil {
		t.Fatal(err)
	}
	for _, chunked := range []bool{false, true} {
		if code, body := e.put(t, u, "/dav/home/film.bin", limit20+1, chunked); code/100 != 2 {
			t.Fatalf("PUT with exception (chunked=%v): %d %s", chunked, code, body)
		}
	}
	if resp, _ := e.do(t, u, "HEAD", "/dav/home/film.bin", nil); resp.StatusCode != 200 {
		t.Fatalf("HEAD with exception: %d", resp.StatusCode)
	}
	e.advance(2 * time.Hour) // the exception expires
	if resp, body := e.do(t, u, "GET", "/dav/home/film.bin", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[SIZE-20MB]") {
		t.Fatalf("GET after expiry: %d %q", resp.StatusCode, body)
	}
	if code, body := e.put(t, u, "/dav/home/film2.bin", limit20+1, false); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("PUT after expiry: %d %s", code, body)
	}
	if code, _ := e.put(t, u, "/dav/home/film2.bin", limit20+1, true); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked PUT after expiry: %d", code)
	}
	if _, err := e.st.FileStat(store.HomeTree(u), "/film2.bin"); err == nil {
		t.Fatal("refused upload left a file")
	}
}

func TestQuota(t *testing.T) {
	e := newEnv(t)
	q := policy.Quotas{Student: 1000, Group: 1000}
	e.h.opt.Quotas = &q
	u := e.user(t, "Voll", "Platte", policy.Student)
	if code, _ := e.put(t, u, "/dav/home/a", 600, false); code != 201 {
		t.Fatalf("first PUT: %d", code)
	}
	if code, body := e.put(t, u, "/dav/home/b", 600, false); code != http.StatusInsufficientStorage || !strings.Contains(body, "[QUOTA]") {
		t.Fatalf("over quota with length: %d %s", code, body)
	}
	if code, body := e.put(t, u, "/dav/home/b", 600, true); code != http.StatusInsufficientStorage {
		t.Fatalf("over quota chunked: %d %s", code, body)
	}
	if resp, _ := e.do(t, u, "COPY", "/dav/home/a", nil, "Destination", e.srv.URL+"/dav/home/c"); resp.StatusCode != http.StatusInsufficientStorage {
		t.Fatalf("COPY over quota: %d", resp.StatusCode)
	}
	// Replacing a file counts only the difference.
	if code, _ := e.put(t, u, "/dav/home/a", 900, false); code != 204 {
		t.Fatalf("replace within quota: %d", code)
	}
	resp, body := e.do(t, u, "PROPFIND", "/dav/home/", strings.NewReader(`<?xml version="1.0"?>
<propfind xmlns="DAV:"><prop><quota-available-bytes/><quota-used-bytes/></prop></propfind>`), "Depth", "0")
	if resp.StatusCode != 207 || !strings.Contains(body, ">100</") || !strings.Contains(body, ">900</") {
		t.Fatalf("quota properties: %d %s", resp.StatusCode, body)
	}
}
