package store

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type countingObserver struct {
	mu            sync.Mutex
	single, group int
	syncs         int
}

func (o *countingObserver) Commit(group bool, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if group {
		o.group++
	} else {
		o.single++
	}
}

func (o *countingObserver) BlobSync(time.Duration) {
	o.mu.Lock()
	o.syncs++
	o.mu.Unlock()
}

// counts is the commits observed so far: single ones and group rounds.
func (o *countingObserver) counts() (single, group int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.single, o.group
}

// openCounted opens a store whose commits are counted from after Open
// (Open's own transactions are not the test's).
func openCounted(t *testing.T) (*Store, *countingObserver) {
	t.Helper()
	o := &countingObserver{}
	s, err := Open(t.TempDir(), Options{Observer: o})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	o.mu.Lock()
	o.single, o.group = 0, 0
	o.mu.Unlock()
	return s, o
}

// The observer sees every commit (single and group) and every blob fsync.
func TestObserverSeesCommitsAndSyncs(t *testing.T) {
	s, o := openCounted(t)
	p, err := s.WriteBlob(strings.NewReader("hello"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := blobRef(s, p); err != nil {
		t.Fatal(err)
	}
	if err := s.batch(func(*Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.single != 1 || o.group != 1 || o.syncs != 1 {
		t.Fatalf("observed %d single commits, %d group rounds, %d blob syncs; want 1, 1, 1", o.single, o.group, o.syncs)
	}
}

// Usage counts the blob files and their bytes (not blobs/tmp, not other
// files) and the database file's size.
func TestUsage(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	for _, c := range []string{"hello", "world!"} {
		p, err := s.WriteBlob(strings.NewReader(c), 100)
		if err != nil {
			t.Fatal(err)
		}
		if err := blobRef(s, p); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "blobs", "tmp", "blob-partial"), []byte("12345678"), 0o600)
	u, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "schulhof.db"))
	if u.Blobs != 2 || u.BlobBytes != 11 || u.DBBytes != fi.Size() || u.DBBytes == 0 {
		t.Fatalf("usage %+v (db file %d bytes), want 2 blobs of 11 bytes", u, fi.Size())
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	if err := s.CheckWritable(); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	if os.Geteuid() != 0 { // root writes into a read-only folder anyway
		tmp := filepath.Join(dir, "blobs", "tmp")
		os.Chmod(tmp, 0o500)
		if err := s.CheckWritable(); err == nil {
			t.Error("a read-only blob folder was called writable")
		}
		os.Chmod(tmp, 0o700)
	}
	s.Close()
	if err := s.CheckWritable(); err == nil {
		t.Fatal("a closed store was called writable")
	}
}
