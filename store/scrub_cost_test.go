package store

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestScrubCost measures the free-page scrub against a compaction into a
// new file (the alternative), on a database of SCHULHOF_SCRUB_MIB MiB
// with a tenth of it freed. It runs only when that variable is set:
//
//	SCHULHOF_SCRUB_MIB=256 go test -count=1 -run TestScrubCost -v ./store
func TestScrubCost(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("SCHULHOF_SCRUB_MIB"))
	if mib <= 0 {
		t.Skip("set SCHULHOF_SCRUB_MIB to measure")
	}
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	const val = 4000
	n := mib << 20 / val
	for i := 0; i < n; {
		if err := s.db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("load"))
			for j := 0; j < 8192 && i < n && err == nil; j, i = j+1, i+1 {
				err = b.Put(u64(uint64(i)), make([]byte, val))
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// free every tenth record, scattered over the file
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("load"))
		for i := 0; i < n; i += 10 {
			if err := b.Delete(u64(uint64(i))); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "schulhof.db"))
	dbMiB := float64(fi.Size()) / (1 << 20)
	st, err := s.ScrubFreePages()
	if err != nil {
		t.Fatal(err)
	}
	freeMiB := float64(st.Pages*st.PageSize) / (1 << 20)
	t.Logf("database %.0f MiB, free %.1f MiB: scrub %v in %d rounds = %.2f ms per MiB free, %.3f ms per MiB of database",
		dbMiB, freeMiB, st.Took.Round(time.Millisecond), st.Rounds,
		float64(st.Took.Milliseconds())/freeMiB, float64(st.Took.Milliseconds())/dbMiB)
	// A second scrub right after finds (almost) nothing to do.
	st2, err := s.ScrubFreePages()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second scrub: %d pages in %v", st2.Pages, st2.Took.Round(time.Millisecond))

	dst, err := bolt.Open(filepath.Join(dir, "compact.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := bolt.Compact(dst, s.db, 64<<20); err != nil {
		t.Fatal(err)
	}
	if err := dst.Sync(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	dst.Close()
	t.Logf("compaction of the same database: %v = %.2f ms per MiB of database", took.Round(time.Millisecond), float64(took.Milliseconds())/dbMiB)
}
