//go:build linux

package store

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// TestFillerStaysAboveMark grows a store with small (inline) and larger
// (blob) files from several writers while the filler runs, and checks
// every chunk the filler writes: at or above the high-water mark of its
// transaction, and only over bytes that are still zero (a hole or its
// own earlier zeros), never over a page bbolt wrote. Then the lead above
// the mark must be really written (no hole), and the store must reopen,
// pass bbolt's check and give back every file intact.
func TestFillerStaysAboveMark(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "schulhof.db")
	var mu sync.Mutex
	var problems []string
	chunks := 0
	// A bad chunk is refused (the filler stops) so that the report names
	// it instead of a corrupted database.
	fillHook = func(start, end, hwm int64) error {
		buf := make([]byte, end-start)
		n, err := readAtMost(dbPath, buf, start)
		mu.Lock()
		defer mu.Unlock()
		chunks++
		if start < hwm || end <= start {
			err = fmt.Errorf("chunk [%d,%d) with the mark at %d", start, end, hwm)
		} else if i := bytes.IndexFunc(buf[:n], func(r rune) bool { return r != 0 }); i >= 0 {
			err = fmt.Errorf("chunk [%d,%d) would overwrite data at %d", start, end, start+int64(i))
		}
		if err != nil {
			problems = append(problems, err.Error())
		}
		return err
	}
	defer func() { fillHook = nil }()
	s := openTest(t, dir)

	const writers, each = 4, 150
	type file struct {
		tr Tree
		p  string
	}
	want := map[file][]byte{}
	var wantMu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := HomeTree(fmt.Sprintf("user%d", w))
			for i := range each {
				size := 4096
				if i%25 == 0 {
					size = InlineMax + 1000 // a blob file
				}
				content := bytes.Repeat([]byte{byte(w + 1), byte(i), byte(i >> 8)}, size/3+1)[:size]
				p := fmt.Sprintf("/f%04d.txt", i)
				if err := putFileErr(s, tr, p, content); err != nil {
					errs <- err
					return
				}
				if i%10 == 9 { // a removal frees pages for reuse
					q := fmt.Sprintf("/f%04d.txt", i-5)
					if err := s.FileRemove(tr, q); err != nil {
						errs <- err
						return
					}
					wantMu.Lock()
					delete(want, file{tr, q})
					wantMu.Unlock()
				}
				wantMu.Lock()
				want[file{tr, p}] = content
				wantMu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Fill the lead now rather than wait for the background round.
	for {
		more, err := s.fillStep(s.fill)
		if err != nil {
			t.Error(err)
			break
		}
		if !more {
			break
		}
	}
	var hwm int64
	s.db.View(func(tx *bolt.Tx) error { hwm = tx.Size(); return nil })
	if hole := firstHole(t, dbPath, hwm); hole < hwm+fillLead(hwm)/2 {
		t.Errorf("hole at %d, only %d bytes above the mark %d written", hole, hole-hwm, hwm)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if chunks == 0 {
		t.Error("the filler wrote nothing")
	}
	for _, p := range problems {
		t.Error(p)
	}
	mu.Unlock()

	s = openTest(t, dir)
	defer s.Close()
	for _, err := range s.Check() {
		t.Errorf("bbolt check: %v", err)
	}
	if len(want) < writers*each*8/10 {
		t.Fatalf("only %d files to check", len(want))
	}
	for key, content := range want {
		_, r, err := s.FileOpen(key.tr, key.p)
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, content) {
			t.Errorf("%s: content changed (%d bytes, want %d)", key, len(got), len(content))
		}
	}
}

func putFileErr(s *Store, tr Tree, p string, content []byte) error {
	pb, err := s.WriteContent(bytes.NewReader(content), -1)
	if err != nil {
		return err
	}
	defer pb.Release()
	_, _, err = s.FilePut(tr, p, PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, ModTime: time.Now(), Limits: NoLimits()})
	return err
}

// readAtMost reads what the file holds of [off, off+len(buf)).
func readAtMost(path string, buf []byte, off int64) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := f.ReadAt(buf, off)
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// firstHole is the offset of the first hole (or the end) at or after off.
func firstHole(t *testing.T, path string, off int64) int64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := unix.Seek(int(f.Fd()), off, unix.SEEK_HOLE)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
