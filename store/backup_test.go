package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fixedClock returns t and moves it on by step each call.
func fixedClock(t time.Time, step time.Duration) func() time.Time {
	return func() time.Time { t = t.Add(step); return t }
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestBackupLatestEmpty(t *testing.T) {
	dir := t.TempDir()
	if _, err := LatestBackup(dir); !errors.Is(err, ErrNoBackup) {
		t.Fatalf("empty dir: %v, want ErrNoBackup", err)
	}
	if _, err := LatestBackup(filepath.Join(dir, "missing")); !errors.Is(err, ErrNoBackup) {
		t.Fatalf("missing dir: %v, want ErrNoBackup", err)
	}
	// A half backup (no manifest) and a temp folder are not backups.
	os.MkdirAll(filepath.Join(dir, "2026-01-01T000000Z"), 0o700)
	os.MkdirAll(filepath.Join(dir, ".tmp-123"), 0o700)
	if _, err := LatestBackup(dir); !errors.Is(err, ErrNoBackup) {
		t.Fatalf("incomplete only: %v, want ErrNoBackup", err)
	}
}

func TestBackupIncrementalLinksAndLatest(t *testing.T) {
	data, bdir := t.TempDir(), t.TempDir()
	s := openMailTest(t, data)
	defer s.Close()
	mkAccount(t, s, "anna")
	big := strings.Repeat("x", InlineMax+10) // a blob file, not inline
	deliver(t, s, "Subject: one\r\n\r\n"+big, "anna")
	if err := putString(t, s, HomeTree("anna"), "/a.txt", "a file "+big, -1); err != nil {
		t.Fatal(err)
	}
	clock := fixedClock(time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC), time.Hour)

	r1, err := s.Backup(bdir, BackupOptions{Now: clock, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	m := r1.Manifest
	if m.Counts.Blobs != 2 || m.Counts.Accounts != 1 || m.Counts.Messages != 1 || m.Bytes.Linked != 0 {
		t.Fatalf("first backup: %+v %+v", m.Counts, m.Bytes)
	}
	if len(m.Files) != 3 || m.Files[0].Path != "schulhof.db" {
		t.Fatalf("files: %+v", m.Files)
	}
	deliver(t, s, "Subject: two\r\n\r\n"+big+"2", "anna")
	r2, err := s.Backup(bdir, BackupOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Manifest.Counts.Blobs != 3 || r2.Manifest.Bytes.Linked == 0 {
		t.Fatalf("second backup: %+v %+v", r2.Manifest.Counts, r2.Manifest.Bytes)
	}
	linked, copied := 0, 0
	for _, f := range r2.Manifest.Files[1:] {
		p1, p2 := filepath.Join(r1.Path, f.Path), filepath.Join(r2.Path, f.Path)
		if f.Linked {
			linked++
			if inode(t, p1) != inode(t, p2) {
				t.Fatalf("%s: linked but different inodes", f.Path)
			}
		} else {
			copied++
			if _, err := os.Stat(p1); err == nil {
				t.Fatalf("%s copied though the first backup has it", f.Path)
			}
		}
	}
	if linked != 2 || copied != 1 {
		t.Fatalf("linked %d copied %d, want 2 and 1", linked, copied)
	}
	r3, err := s.Backup(bdir, BackupOptions{Now: clock, Full: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range r3.Manifest.Files[1:] {
		if f.Linked || inode(t, filepath.Join(r3.Path, f.Path)) == inode(t, filepath.Join(r2.Path, f.Path)) {
			t.Fatalf("--full linked %s", f.Path)
		}
	}
	got, err := LatestBackup(bdir)
	if err != nil || !got.Equal(r3.Manifest.Created) {
		t.Fatalf("LatestBackup = %v, %v; want %v", got, err, r3.Manifest.Created)
	}
	list, _ := ListBackups(bdir)
	if len(list) != 3 || list[0].Path != r1.Path || list[2].Path != r3.Path {
		t.Fatalf("list: %+v", list)
	}
	// The backup left an audit trace.
	recs, _ := s.AuditLog(time.Time{})
	found := false
	for _, r := range recs {
		found = found || (r.Action == "backup" && r.Actor == "test" && r.Target == r1.Path)
	}
	if !found {
		t.Fatalf("no audit record for the backup: %+v", recs)
	}
}

func TestBackupPruneKeepsLinkedBlobs(t *testing.T) {
	data, bdir := t.TempDir(), t.TempDir()
	s := openMailTest(t, data)
	defer s.Close()
	mkAccount(t, s, "anna")
	deliver(t, s, "Subject: one\r\n\r\n"+strings.Repeat("y", InlineMax+1), "anna")
	day := 24 * time.Hour
	start := time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC)
	now := start
	clock := func() time.Time { return now }
	r1, err := s.Backup(bdir, BackupOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(day)
	r2, err := s.Backup(bdir, BackupOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	blob := r2.Manifest.Files[1]
	if !blob.Linked {
		t.Fatal("second backup did not link the blob")
	}
	os.MkdirAll(filepath.Join(bdir, ".tmp-crashed"), 0o700)

	// 14 days after the first backup it goes; the second stays whole.
	removed, err := PruneBackups(bdir, 14*day, start.Add(14*day))
	if err != nil || len(removed) != 1 || removed[0] != filepath.Base(r1.Path) {
		t.Fatalf("prune: %v %v", removed, err)
	}
	if _, err := os.Stat(r1.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("first backup still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(bdir, ".tmp-crashed")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("leftover temp folder not pruned")
	}
	raw, err := os.ReadFile(filepath.Join(r2.Path, blob.Path))
	if err != nil || !strings.HasPrefix(string(raw), "Subject: one") {
		t.Fatalf("linked blob gone with the older backup: %v", err)
	}
}

// A blob whose last reference goes while a backup runs stays until the
// backup has copied it.
func TestBackupHoldsBlobRemoval(t *testing.T) {
	data := t.TempDir()
	s := openMailTest(t, data)
	defer s.Close()
	mkAccount(t, s, "anna")
	if err := putString(t, s, HomeTree("anna"), "/big", strings.Repeat("z", InlineMax+1), -1); err != nil {
		t.Fatal(err)
	}
	e, err := s.FileStat(HomeTree("anna"), "/big")
	if err != nil {
		t.Fatal(err)
	}
	s.holdBlobRemoval()
	if err := s.FileRemove(HomeTree("anna"), "/big"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.blobPath(e.Hash)); err != nil {
		t.Fatalf("blob removed during a backup: %v", err)
	}
	s.releaseBlobRemoval()
	if _, err := os.Stat(s.blobPath(e.Hash)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("blob not removed after the backup: %v", err)
	}
}
