package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTest(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cand(base string) func(int) string {
	return func(n int) string {
		if n == 1 {
			return base
		}
		return fmt.Sprintf("%s%d", base, n)
	}
}

func TestAccountsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	a, err := s.CreateAccount(Account{First: "Max", Last: "Müller", Role: "student", PasswordHash: "h"}, cand("max.mueller"))
	if err != nil || a.Name != "max.mueller" {
		t.Fatalf("create: %v %q", err, a.Name)
	}
	b, _ := s.CreateAccount(Account{First: "Max", Last: "Müller", Role: "student"}, cand("max.mueller"))
	if b.Name != "max.mueller2" {
		t.Fatalf("second Max Müller got %q", b.Name)
	}
	if err := s.CreateGroup(Group{Name: "5a", Kind: "class"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddToGroup("5a", AsMember, "max.mueller", "max.mueller2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, dir)
	defer s.Close()
	got, err := s.Account("max.mueller")
	if err != nil || got.First != "Max" || got.PasswordHash != "h" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	g, err := s.Group("5a")
	if err != nil || !g.HasMember("max.mueller2") || len(g.Members) != 2 {
		t.Fatalf("group after reopen: %+v %v", g, err)
	}
	if v, _ := s.Schema(); v != SchemaVersion {
		t.Errorf("schema %d", v)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Errorf("check: %v", errs)
	}
}

func TestNameNeverReused(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	if _, err := s.CreateAccount(Account{First: "Max", Last: "Müller"}, cand("max.mueller")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(Group{Name: "5a", Kind: "class"}); err != nil {
		t.Fatal(err)
	}
	s.AddToGroup("5a", AsMember, "max.mueller")
	if err := s.DeleteAccount("max.mueller"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Account("max.mueller"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted account still there: %v", err)
	}
	if g, _ := s.Group("5a"); g.HasMember("max.mueller") {
		t.Error("deleted account still a group member")
	}
	a, err := s.CreateAccount(Account{First: "Max", Last: "Müller"}, cand("max.mueller"))
	if err != nil || a.Name != "max.mueller2" {
		t.Fatalf("a new Max Müller got %q (%v): a name must never be given twice", a.Name, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("schema"), u64(SchemaVersion+1)) })
	s.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

func TestMigrationRuns(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("schema"), u64(SchemaVersion-1)) })
	s.Close()
	ran := false
	real := migrations[SchemaVersion-1]
	migrations[SchemaVersion-1] = func(tx *bolt.Tx) error { ran = true; return nil }
	defer func() { migrations[SchemaVersion-1] = real }()
	s = openTest(t, dir)
	defer s.Close()
	if v, _ := s.Schema(); !ran || v != SchemaVersion {
		t.Fatalf("migration ran=%v, schema now %d", ran, v)
	}
}

func TestSecondOpenRefused(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	if _, err := Open(dir, Options{Timeout: 100 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
}

func blobRef(s *Store, p *PendingBlob) error {
	defer p.Release()
	return s.update(func(t *Tx) error { return t.refBlob(p.Hash) })
}

func TestBlobLifecycle(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	p, err := s.WriteBlob(strings.NewReader("hello"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if p.Size != 5 || p.Hash != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("blob %+v", p.Blob)
	}
	if err := blobRef(s, p); err != nil {
		t.Fatal(err)
	}
	// Same content again: one file, two references.
	p2, _ := s.WriteBlob(strings.NewReader("hello"), 100)
	if err := blobRef(s, p2); err != nil {
		t.Fatal(err)
	}
	f, err := s.OpenBlob(p.Hash)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	f.Close()
	if string(data) != "hello" {
		t.Fatalf("content %q", data)
	}
	path := s.blobPath(p.Hash)
	s.update(func(t *Tx) error { return t.unrefBlob(p.Hash) })
	if _, err := os.Stat(path); err != nil {
		t.Fatal("blob removed while still referenced")
	}
	s.update(func(t *Tx) error { return t.unrefBlob(p.Hash) })
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("blob not removed after its last reference")
	}
	s.Close()
}

func TestBlobTooLargeKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	_, err := s.WriteBlob(bytes.NewReader(make([]byte, 101)), 100)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v", err)
	}
	if n := countFiles(t, filepath.Join(dir, "blobs")); n != 0 {
		t.Fatalf("%d files left after refused blob", n)
	}
	if _, err := s.WriteBlob(bytes.NewReader(make([]byte, 100)), 100); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
}

func TestSweepRemovesOrphans(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	kept, _ := s.WriteBlob(strings.NewReader("kept"), -1)
	blobRef(s, kept)
	orphan, _ := s.WriteBlob(strings.NewReader("orphan: crash before commit"), -1)
	os.WriteFile(filepath.Join(dir, "blobs", "tmp", "blob-123"), []byte("half"), 0o600)
	s.Close() // orphan never referenced, never released: as after a crash

	s = openTest(t, dir)
	defer s.Close()
	if _, err := os.Stat(s.blobPath(orphan.Hash)); !os.IsNotExist(err) {
		t.Error("orphan blob survived the startup sweep")
	}
	if _, err := os.Stat(s.blobPath(kept.Hash)); err != nil {
		t.Error("referenced blob removed by the sweep")
	}
	if n := countFiles(t, filepath.Join(dir, "blobs", "tmp")); n != 0 {
		t.Errorf("%d temp files left", n)
	}
}

func TestPendingBlobNotRemovedByConcurrentUnref(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	a, _ := s.WriteBlob(strings.NewReader("same"), -1)
	blobRef(s, a)
	// A second writer has the same content on disk but not yet committed…
	b, _ := s.WriteBlob(strings.NewReader("same"), -1)
	// …when the first reference goes away.
	s.update(func(t *Tx) error { return t.unrefBlob(a.Hash) })
	if _, err := os.Stat(s.blobPath(b.Hash)); err != nil {
		t.Fatal("pending blob removed under a writer")
	}
	blobRef(s, b)
	if _, err := os.Stat(s.blobPath(b.Hash)); err != nil {
		t.Fatal("referenced blob missing")
	}
}

func countFiles(t *testing.T, root string) int {
	n := 0
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func TestFeedDeliversCommittedInOrder(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	sub := s.Feed().Subscribe(10000, nil)
	defer sub.Close()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	counter := []byte("counter")
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				s.batch(func(t *Tx) error {
					b := t.bucket(bucketMeta)
					n := uint64(0)
					if v := b.Get(counter); v != nil {
						n = binary.BigEndian.Uint64(v)
					}
					n++
					t.publish(Event{Kind: "test", Data: n})
					return b.Put(counter, u64(n))
				})
			}
		}()
	}
	// A failing transaction publishes nothing.
	s.update(func(t *Tx) error {
		t.publish(Event{Kind: "rolled-back"})
		return errors.New("no")
	})
	wg.Wait()
	for want := uint64(1); want <= writers*each; want++ {
		select {
		case e := <-sub.C:
			if e.Kind != "test" || e.Data.(uint64) != want {
				t.Fatalf("event %v, want counter %d", e, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d missing", want)
		}
	}
	select {
	case e := <-sub.C:
		t.Fatalf("extra event %v", e)
	default:
	}
}

func TestFeedOverflowClosesSubscriber(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	sub := s.Feed().Subscribe(1, nil)
	for i := 0; i < 3; i++ {
		s.update(func(t *Tx) error { t.publish(Event{Kind: "x"}); return nil })
	}
	<-sub.C
	if _, ok := <-sub.C; ok || !sub.Overflowed() {
		t.Fatal("lagging subscriber not closed with overflow")
	}
}

func TestLoginLogAndPurge(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	s.CreateAccount(Account{First: "A", Last: "B"}, cand("a.b"))
	old := time.Now().Add(-40 * 24 * time.Hour)
	now := time.Now()
	s.RecordLogin(LoginRecord{Time: old, Account: "a.b", Protocol: "imap", IP: "10.0.0.1", OK: true})
	s.RecordLogin(LoginRecord{Time: now, Account: "a.b", Protocol: "smtp", IP: "10.0.0.2", OK: true})
	s.RecordLogin(LoginRecord{Time: now, Account: "x.y", Protocol: "dav", IP: "10.0.0.3", OK: false, Rule: "AUTH-FAILED"})
	all, _ := s.LoginLog("", time.Time{})
	if len(all) != 3 {
		t.Fatalf("%d records", len(all))
	}
	mine, _ := s.LoginLog("a.b", time.Time{})
	if len(mine) != 2 {
		t.Fatalf("%d records for a.b", len(mine))
	}
	a, _ := s.Account("a.b")
	if a.LastLoginIP != "10.0.0.2" {
		t.Errorf("last login IP %q", a.LastLoginIP)
	}
	n, err := s.PurgeLoginLog(now.Add(-30 * 24 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("purged %d (%v)", n, err)
	}
	if rest, _ := s.LoginLog("", time.Time{}); len(rest) != 2 {
		t.Fatalf("%d left", len(rest))
	}
}

func TestExceptions(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	s.CreateAccount(Account{First: "A", Last: "B"}, cand("a.b"))
	s.CreateAccount(Account{First: "A", Last: "Bc"}, cand("a.bc"))
	now := time.Now()
	if err := s.AddException(Exception{Account: "nobody.here", Bytes: 1, Until: now}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("exception for unknown account: %v", err)
	}
	s.AddException(Exception{Account: "a.b", Bytes: 100, Until: now.Add(time.Hour)})
	s.AddException(Exception{Account: "a.b", Bytes: 200, Until: now.Add(-time.Hour), CreatedAt: now.Add(-2 * time.Hour)})
	s.AddException(Exception{Account: "a.bc", Bytes: 300, Until: now.Add(time.Hour)})
	if x, _ := s.Exceptions("a.b"); len(x) != 2 {
		t.Fatalf("a.b has %d exceptions (prefix leak?)", len(x))
	}
	if n, _ := s.PurgeExpiredExceptions(now); n != 1 {
		t.Fatalf("purged %d", n)
	}
	s.DeleteAccount("a.b")
	if x, _ := s.Exceptions(""); len(x) != 1 || x[0].Account != "a.bc" {
		t.Fatalf("after delete: %+v", x)
	}
}
