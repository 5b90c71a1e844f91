package store

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestCheckBlobs: a healthy store has no findings; a deleted blob, a
// damaged one and an uncounted file are each reported, by the live store
// and by a read-only one (schulhof doctor without a server).
func TestCheckBlobs(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	if _, err := s.CreateAccount(Account{First: "A", Last: "B"}, func(int) string { return "a.b" }); err != nil {
		t.Fatal(err)
	}
	home := HomeTree("a.b")
	contents := []string{"erste Datei", "zweite Datei", "dritte Datei"}
	for i, c := range contents {
		if err := putString(t, s, home, "/f"+string(rune('0'+i)), c, -1); err != nil {
			t.Fatal(err)
		}
	}
	pb, err := s.WriteContent(strings.NewReader("klein"), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FilePut(home, "/inline", PutFile{Blob: pb.Blob, Data: pb.Data, Pending: true, ModTime: time.Now(), Limits: NoLimits()}); err != nil {
		t.Fatal(err)
	}
	pb.Release()
	r, err := s.CheckBlobs()
	if err != nil {
		t.Fatal(err)
	}
	if r.Counted != 4 || r.Inline != 1 || r.Files != 3 || len(r.Missing)+len(r.WrongHash)+len(r.Orphans) != 0 {
		t.Fatalf("healthy store: %+v", r)
	}

	// Counts that disagree with the references: the same content in two
	// files counted once, and one file's content counted five times.
	for _, p := range []string{"/twin1", "/twin2"} {
		if err := putString(t, s, home, p, "Zwilling", -1); err != nil {
			t.Fatal(err)
		}
	}
	setCount := func(h string, n uint64) {
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlobRefs).Put([]byte(h), u64(n)) }); err != nil {
			t.Fatal(err)
		}
	}
	setCount(sha("Zwilling"), 1)
	setCount(sha(contents[2]), 5)
	r, err = s.CheckBlobs()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Undercounted, []RefMismatch{{sha("Zwilling"), 1, 2}}) ||
		!reflect.DeepEqual(r.Overcounted, []RefMismatch{{sha(contents[2]), 5, 1}}) {
		t.Fatalf("recount: under %v over %v", r.Undercounted, r.Overcounted)
	}
	setCount(sha("Zwilling"), 2)
	setCount(sha(contents[2]), 1)

	missing, damaged := sha(contents[0]), sha(contents[1])
	if err := os.Remove(s.blobPath(missing)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.blobPath(damaged), []byte("bit rot"), 0o600); err != nil {
		t.Fatal(err)
	}
	orphan := sha("niemandes Inhalt")
	os.MkdirAll(filepath.Dir(s.blobPath(orphan)), 0o700)
	if err := os.WriteFile(s.blobPath(orphan), []byte("niemandes Inhalt"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := func(r BlobReport) {
		t.Helper()
		if !reflect.DeepEqual(r.Missing, []string{missing}) || !reflect.DeepEqual(r.WrongHash, []string{damaged}) ||
			!reflect.DeepEqual(r.Orphans, []string{orphan}) {
			t.Fatalf("broken store: %+v", r)
		}
	}
	r, err = s.CheckBlobs()
	if err != nil {
		t.Fatal(err)
	}
	want(r)
	s.Close()

	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	r, err = ro.CheckBlobs()
	if err != nil {
		t.Fatal(err)
	}
	want(r)
	if errs := ro.Check(); len(errs) != 0 {
		t.Fatalf("bbolt check read-only: %v", errs)
	}
	u, err := DiskUsage(dir)
	if err != nil || u.DataBytes <= 0 || u.FreeBytes == 0 || u.TotalBytes < u.FreeBytes {
		t.Fatalf("DiskUsage %+v %v", u, err)
	}
	if !Exists(dir) || Exists(t.TempDir()) {
		t.Fatal("Exists")
	}
}

// TestCheckBlobsRecountsMail: messages delivered to two accounts, copied
// and expunged in one mailbox are counted as their references: no mismatch.
func TestCheckBlobsRecountsMail(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	mkAccount(t, s, "ben")
	d := deliver(t, s, strings.Repeat("Nachricht ", 3000), "anna", "ben")
	deliver(t, s, "zweite", "anna")
	if _, err := s.CreateMailbox("anna", "Archiv", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyMessages(d[0].Mailbox, []uint32{d[0].UID}, "anna", "Archiv", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(d[1].Mailbox, []uint32{d[1].UID}, nil); err != nil { // ben's copy
		t.Fatal(err)
	}
	r, err := s.CheckBlobs()
	if err != nil {
		t.Fatal(err)
	}
	if r.Counted != 2 || len(r.Undercounted)+len(r.Overcounted)+len(r.Missing)+len(r.WrongHash)+len(r.Orphans) != 0 {
		t.Fatalf("after delivery and copy: %+v", r)
	}
}
