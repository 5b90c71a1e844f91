package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// fillAndFree writes values over many pages and deletes half of them, so
// the database has free pages for the freelist to name.
func fillAndFree(t testing.TB, s *Store) {
	t.Helper()
	name := []byte("freelisttest")
	val := make([]byte, 3000)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		for i := range 400 {
			if err := b.Put(fmt.Appendf(nil, "k%05d", i), val); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		for i := 0; i < 400; i += 2 {
			if err := b.Delete(fmt.Appendf(nil, "k%05d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustSynced(t *testing.T, path string, want bool) {
	t.Helper()
	synced, exists, err := freelistSynced(path)
	if err != nil || !exists {
		t.Fatalf("freelistSynced(%s): exists %v, err %v", path, exists, err)
	}
	if synced != want {
		t.Fatalf("meta page names a freelist: %v, want %v", synced, want)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func mustCheck(t *testing.T, s *Store) {
	t.Helper()
	if errs := s.Check(); len(errs) > 0 {
		t.Fatalf("check: %v", errs)
	}
}

// The parser reads what bbolt writes: a database committed with the
// freelist names its page, one committed without names none.
func TestFreelistSyncedParsesBbolt(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "x.db")
		db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: noSync})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
			t.Fatal(err)
		}
		db.Close()
		mustSynced(t, path, !noSync)
	}
	if _, exists, err := freelistSynced(filepath.Join(t.TempDir(), "none.db")); exists || err != nil {
		t.Fatalf("missing file: exists %v, err %v", exists, err)
	}
}

// A clean Close leaves the freelist on disk, so the next Open reads it
// instead of walking; the first commit after that drops it again, so a
// crash then is recovered by the walk. The image of the file while the
// store is open is what a SIGKILL leaves.
func TestCloseWritesFreelist(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "schulhof.db")
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenInfo().FreelistRebuilt {
		t.Fatal("a new database was walked")
	}
	fillAndFree(t, s)
	mustSynced(t, path, false) // small commits write no freelist
	crashDir := t.TempDir()
	copyFile(t, path, filepath.Join(crashDir, "schulhof.db"))
	copyFile(t, path+"-wal", filepath.Join(crashDir, "schulhof.db-wal"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mustSynced(t, path, true)
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenInfo().FreelistRebuilt {
		t.Fatal("open after a clean close walked the pages")
	}
	if n := s.db.Stats().FreePageN; n == 0 {
		t.Fatal("the loaded freelist is empty")
	}
	mustCheck(t, s)
	// Open's own commit (init) already dropped the list: a crash from
	// here on must not find a stale one.
	mustSynced(t, path, false)
	fillAndFree(t, s)
	mustSynced(t, path, false)
	mustCheck(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mustSynced(t, path, true)

	c, err := Open(crashDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.OpenInfo().FreelistRebuilt {
		t.Fatal("open after a crash did not report the walk")
	}
	// The write-ahead log's records since the open are applied again
	// (the same bytes the killed process's page cache kept).
	if c.OpenInfo().Replayed == 0 {
		t.Fatal("open after a crash replayed no commits from the write-ahead log")
	}
	mustCheck(t, c)
	c.Close()

	// A read-only open (doctor) neither walks at open nor writes.
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.OpenInfo().FreelistRebuilt {
		t.Fatal("read-only open reported a walk")
	}
	mustCheck(t, r)
	r.Close()
	mustSynced(t, path, true)
}

// A compacted backup copy carries its freelist, so a restore does not walk.
func TestCompactCopyWritesFreelist(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fillAndFree(t, s)
	out := filepath.Join(t.TempDir(), "copy.db")
	err = s.db.View(func(tx *bolt.Tx) error { _, err := writeCompact(tx, out, true); return err })
	if err != nil {
		t.Fatal(err)
	}
	mustSynced(t, out, true)
}
