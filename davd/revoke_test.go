package davd

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// TestLockEndsUploadInFlight: an upload running when the account is
// locked stops within a second and stores nothing.
func TestLockEndsUploadInFlight(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Lange", "Leitung", policy.Student)
	started := make(chan struct{}, 1)
	e.h.putStarted = func() { started <- struct{}{} }
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", e.srv.URL+"/dav/home/gross.bin", pr)
	req.SetBasicAuth(u, testPassword)
	req.ContentLength = 8 << 20
	done := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "[ACCOUNT-LOCKED]") {
			t.Errorf("cut upload answered %d %s, want 403 [ACCOUNT-LOCKED]", resp.StatusCode, body)
		}
		done <- resp.StatusCode
	}()
	// A quarter MiB before the lock, the rest after: the upload cannot
	// finish before the lock is there.
	chunk := make([]byte, 32<<10)
	locked := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			if i == 8 {
				<-locked
			}
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
	}()
	defer pw.Close()
	<-started
	start := time.Now()
	if err := e.svc.Lock("test", u, "Test"); err != nil {
		t.Fatal(err)
	}
	close(locked)
	select {
	case code := <-done:
		if code == http.StatusCreated || code == http.StatusNoContent {
			t.Fatalf("upload completed after the lock: %d", code)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("upload ended %v after the lock", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("upload still running after the lock")
	}
	if _, err := e.st.FileStat(store.HomeTree(u), "/gross.bin"); err == nil {
		t.Fatal("the cut upload was stored")
	}
}

// TestLockEndsDownloadInFlight: a download running when the account is
// locked is cut short.
func TestLockEndsDownloadInFlight(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Lange", "Leitung", policy.Student)
	big := make([]byte, 20<<20)
	if r, _ := e.do(t, u, "PUT", "/dav/home/film.bin", bytes.NewReader(big)); r.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", r.StatusCode)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/dav/home/film.bin", nil)
	req.SetBasicAuth(u, testPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(err, resp)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Lock("test", u, "Test"); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil || n >= int64(len(big))-64<<10 {
		t.Fatalf("download went on after the lock: %d bytes, %v", n, err)
	}
}
