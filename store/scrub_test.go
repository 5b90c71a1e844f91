package store

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// scenario stores what one person keeps, each piece carrying a marker,
// and returns the markers.
func scrubScenario(t *testing.T, s *Store, who string) []string {
	t.Helper()
	mkAccount(t, s, who)
	mkAccount(t, s, "carl.c")
	m := func(kind string) string { return "MARK" + kind + "Q7" }
	markers := []string{m("subject"), m("folder"), m("filename"), m("inline"), m("blob"), m("chat"), m("mailbox")}
	for i := range 40 {
		pb, err := s.WriteContent(strings.NewReader(fmt.Sprintf("Subject: %s %d\r\n\r\nnur fuer dich", m("subject"), i)), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Deliver(Delivery{NewMessage: NewMessage{Blob: pb, Meta: []byte(`{"subject":"` + m("subject") + `"}`)}, Recipients: []string{who}}); err != nil {
			t.Fatal(err)
		}
		pb.Release()
	}
	if _, err := s.CreateMailbox(who, "Projekte-"+m("mailbox"), ""); err != nil {
		t.Fatal(err)
	}
	home := HomeTree(who)
	if err := s.FileMkdir(home, "/"+m("folder"), time.Now(), NoLimits()); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		putAs(t, s, home, fmt.Sprintf("/%s/%s-%d.txt", m("folder"), m("filename"), i), fmt.Sprintf("%s %d", m("inline"), i), who)
	}
	putAs(t, s, home, "/gross.bin", m("blob")+strings.Repeat("b", InlineMax+10), who)
	for i := range 20 {
		if _, err := s.PostMessage(GroupRoomID("7b"), who, fmt.Sprintf("%s %d", m("chat"), i), time.Now(), nil); err != nil {
			t.Fatal(err)
		}
	}
	return markers
}

// leftovers lists the markers found in the raw database file and in the
// blob files.
func leftovers(t *testing.T, dir string, markers []string) []string {
	t.Helper()
	var found []string
	// The database and its write-ahead log, which holds copies of the
	// pages of earlier commits.
	for _, name := range []string{"schulhof.db", "schulhof.db-wal"} {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markers {
			if bytes.Contains(raw, []byte(m)) {
				found = append(found, name+":"+m)
			}
		}
	}
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, m := range markers {
			if bytes.Contains(b, []byte(m)) {
				found = append(found, p+":"+m)
			}
		}
		return nil
	})
	return found
}

// TestErasedUnreadableOnDisk: after an erasure none of the person's
// markers is in the raw database file or a blob file. The same erasure
// without the scrub (a process that stopped or crashed right after the
// erasure's commits) leaves them in bbolt's freed pages, so the scan can
// fail, and did before the scrub; the next Open then scrubs them.
func TestErasedUnreadableOnDisk(t *testing.T) {
	for _, scrub := range []bool{false, true} {
		dir := t.TempDir()
		s := openTest(t, dir)
		s.skipScrub = !scrub
		markers := scrubScenario(t, s, "paula.p")
		if found := leftovers(t, dir, markers); len(found) < len(markers) {
			t.Fatalf("before the erasure only %v of %v found: the scan is broken", found, markers)
		}
		r, err := s.EraseAccount("paula.p", ErasePlatform)
		if err != nil {
			t.Fatal(err)
		}
		found := leftovers(t, dir, markers)
		if !scrub {
			if len(found) == 0 {
				t.Fatal("without the scrub nothing is left: the test cannot tell")
			}
			t.Logf("without the scrub: %v", found)
		} else if len(found) > 0 {
			t.Fatalf("erased data readable on disk: %v (report %s, %d pages scrubbed)", found, r.Summary(), r.ScrubbedPages)
		}
		if errs := s.Check(); len(errs) > 0 {
			t.Fatal(errs)
		}
		s.Close()
		s = openTest(t, dir) // the file is still a sound database
		if errs := s.Check(); len(errs) > 0 {
			t.Fatal(errs)
		}
		if found := leftovers(t, dir, markers); len(found) > 0 {
			t.Fatalf("after reopening, erased data still readable on disk: %v (scrubbed at open: %d pages)", found, s.OpenInfo().Scrubbed)
		}
		if got := s.OpenInfo().Scrubbed; scrub && got != 0 || !scrub && got == 0 {
			t.Fatalf("pages scrubbed at open: %d (scrub done before: %v)", got, scrub)
		}
		if _, err := s.Account("carl.c"); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
}

// TestScrubWaitsForReaders: pages freed while a reader is open stay
// readable for that reader (the scrub never overwrites them under it) and
// are overwritten once it ends.
func TestScrubWaitsForReaders(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	markers := scrubScenario(t, s, "paula.p")
	// Room to write in without growing the file: a writer that must grow
	// the memory map waits for every open reader (bbolt), and this test's
	// reader stays open while the erasure writes.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("room"))
		for i := range 2048 {
			if err == nil {
				err = b.Put(u64(uint64(i)), make([]byte, 4000))
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("room")) }); err != nil {
		t.Fatal(err)
	}
	reader, err := s.db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	s.skipScrub = true
	if _, err := s.EraseAccount("paula.p", ErasePlatform); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{}, 1)
	s.onScrubWait = func() {
		select {
		case waiting <- struct{}{}:
		default:
		}
	}
	done := make(chan error, 1)
	go func() { _, err := s.ScrubFreePages(); done <- err }()
	<-waiting
	// The reader's snapshot is whole: its pages were not touched.
	n := 0
	err = reader.Bucket(bucketFileEntries).ForEach(func(k, v []byte) error {
		var e FileEntry
		if err := decodeEntry(v, &e); err != nil {
			return err
		}
		if strings.Contains(e.Name, "MARKfilename") {
			n++
		}
		return nil
	})
	if err != nil || n != 30 {
		t.Fatalf("reader's snapshot damaged while the scrub waited: %v, %d files", err, n)
	}
	if a := reader.Bucket(bucketAccounts).Get([]byte("paula.p")); a == nil {
		t.Fatal("reader lost the account record")
	}
	reader.Rollback()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if found := leftovers(t, dir, markers); len(found) > 0 {
		t.Fatalf("after the reader ended: %v", found)
	}
}
