package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func putString(t *testing.T, s *Store, tr Tree, p, content string, quota int64) error {
	lim := NoLimits()
	lim.Quota = quota
	t.Helper()
	pb, err := s.WriteBlob(strings.NewReader(content), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	_, _, err = s.FilePut(tr, p, PutFile{Blob: pb.Blob, Pending: true, ModTime: time.Now(), Limits: lim})
	return err
}

func TestFilesTreeReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccount(Account{First: "A", Last: "B"}, func(int) string { return "a.b" }); err != nil {
		t.Fatal(err)
	}
	home, grp := HomeTree("a.b"), GroupTree("5a")
	now := time.Now()
	if err := s.FileMkdir(home, "/docs", now, NoLimits()); err != nil {
		t.Fatal(err)
	}
	if err := s.FileMkdir(home, "/docs", now, NoLimits()); !errors.Is(err, ErrExists) {
		t.Fatalf("mkdir twice: %v", err)
	}
	if err := s.FileMkdir(home, "/nope/x", now, NoLimits()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("mkdir without parent: %v", err)
	}
	if err := putString(t, s, home, "/docs/a.txt", "hello", -1); err != nil {
		t.Fatal(err)
	}
	if err := putString(t, s, home, "/docs/a.txt", "hello world", -1); err != nil {
		t.Fatal(err)
	}
	if err := putString(t, s, home, "/docs/b.txt", "hello world", -1); err != nil {
		t.Fatal(err)
	}
	if err := putString(t, s, home, "/big", "0123456789", 25); !errors.Is(err, ErrQuota) {
		t.Fatalf("over quota: %v", err)
	}
	if err := s.FilePatchProps(home, "/docs/a.txt", []PropOp{{Prop: DeadProp{Space: "urn:x", Local: "p", Inner: []byte("v")}}}, NoLimits()); err != nil {
		t.Fatal(err)
	}
	// Same content twice: one blob, two references.
	if n, _ := s.BlobCount(); n != 1 {
		t.Fatalf("blobs = %d, want 1", n)
	}
	// 22 bytes of content and 7 of the dead property ("urn:x", "p", "v").
	if u, _ := s.TreeUsage(home); u != 29 {
		t.Fatalf("usage = %d, want 29", u)
	}
	// Within the tree: rename a folder.
	if err := s.FileMove(home, "/docs", home, "/papers", NoLimits(), false); err != nil {
		t.Fatal(err)
	}
	if err := s.FileMkdir(home, "/papers/sub", now, NoLimits()); err != nil {
		t.Fatal(err)
	}
	if err := s.FileMove(home, "/papers", home, "/papers/sub/x", NoLimits(), false); !errors.Is(err, ErrBadPath) {
		t.Fatalf("move into itself: %v", err)
	}
	// Across trees: the group counter checks its quota.
	if err := s.FileMove(home, "/papers", grp, "/p", FileLimits{Quota: 10, Entries: -1, Depth: -1, NameBytes: -1}, false); !errors.Is(err, ErrQuota) {
		t.Fatalf("move over group quota: %v", err)
	}
	if err := s.FileMove(home, "/papers", grp, "/p", NoLimits(), false); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, err := s.FileStat(grp, "/p/a.txt")
	if err != nil {
		t.Fatal(err)
	}
	if e.Size != 11 || e.Props[PropKey("urn:x", "p")].Local != "p" {
		t.Fatalf("entry after reopen: %+v", e)
	}
	list, err := s.FileList(grp, "/p")
	if err != nil || len(list) != 3 {
		t.Fatalf("list: %v %v", list, err)
	}
	if u, _ := s.TreeUsage(home); u != 0 {
		t.Fatalf("home usage = %d", u)
	}
	if u, _ := s.TreeUsage(grp); u != 29 {
		t.Fatalf("group usage = %d", u)
	}
	if err := s.FileRemove(grp, "/p/b.txt"); err != nil {
		t.Fatal(err)
	}
	if err := putString(t, s, home, "/mine", "only mine", -1); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.BlobCount(); n != 2 {
		t.Fatalf("blobs = %d, want 2", n)
	}
	if err := s.DeleteAccount("a.b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FileStat(home, "/mine"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("home after account deletion: %v", err)
	}
	if err := s.FileRemove(grp, "/p"); err != nil {
		t.Fatal(err)
	}
	if err := s.ReapFiles(); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.BlobCount(); n != 0 {
		t.Fatalf("blobs = %d, want 0", n)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}
