package web

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// TestPortalExportOneAtATime: "Meine Daten herunterladen" is on Mein
// Konto; while one download of an account is still streaming (the first
// browser has not read it yet), a second is refused with LIMIT-EXPORTS
// and its own error page; once the first is read, it is a whole zip with
// the home file, and a new download works again.
func TestPortalExportOneAtATime(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	big := make([]byte, 32<<20) // more than the socket buffers hold
	rand.NewChaCha8([32]byte{3}).Read(big)
	pb, err := e.st.WriteBlob(bytes.NewReader(big), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.st.FilePut(store.HomeTree(max), "/film.bin", store.PutFile{Blob: pb.Blob, Pending: true, ModTime: time.Now(), Limits: store.NoLimits()}); err != nil {
		t.Fatal(err)
	}
	pb.Release()

	b1, b2 := e.browser(), e.browser()
	b1.mustLogin(max)
	b2.mustLogin(max)
	if _, page := b1.do("GET", "/konto", nil); !strings.Contains(page, `action="/konto/daten"`) || !strings.Contains(page, "Meine Daten herunterladen") {
		t.Fatalf("no export button on Mein Konto:\n%s", page)
	}

	// b1 starts a download and reads only its headers.
	req, _ := http.NewRequest("POST", e.base+"/konto/daten", strings.NewReader(url.Values{"csrf": {b1.csrf("/konto")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.base)
	for k, v := range b1.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %s %v", resp.Status, resp.Header)
	}

	r2, page := b2.do("POST", "/konto/daten", url.Values{"csrf": {b2.csrf("/konto")}})
	if r2.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "[LIMIT-EXPORTS]") {
		t.Fatalf("second download while the first runs: %s\n%s", r2.Status, page)
	}

	zipped, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, f := range zr.File {
		if f.Name == "dateien/film.bin" {
			r, _ := f.Open()
			got, err = io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if sha256.Sum256(got) != sha256.Sum256(big) {
		t.Fatalf("film.bin: %d bytes, differs from the 32 MiB stored", len(got))
	}
	// The whole body came, so the export (which releases the account
	// before the zip's directory is written) has ended: a new one runs.
	if r3, _ := b2.do("POST", "/konto/daten", url.Values{"csrf": {b2.csrf("/konto")}}); r3.StatusCode != 200 {
		t.Fatalf("download after the first ended: %s", r3.Status)
	}
	// Two downloads read the data and left their trace; the refused one
	// read nothing and left none.
	recs, err := e.st.AuditLog(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Action == "user.export-self" && r.Actor == max && r.Target == max {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d user.export-self records, want 2: %+v", n, recs)
	}
}
