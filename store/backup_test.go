package store

import (
	"encoding/hex"

	"bytes"
	"errors"
	"fmt"
	bolt "go.etcd.io/bbolt"
	"io"
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
	if _, err := s.Backup(filepath.Join(data, "bak"), BackupOptions{}); err == nil || !strings.Contains(err.Error(), "inside the data directory") {
		t.Fatalf("backup into the data directory: %v", err)
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

func errorTexts(r *BackupReport) string {
	var b strings.Builder
	for _, f := range r.Findings {
		if f.Error {
			b.WriteString(f.Text + "\n")
		}
	}
	return b.String()
}

func TestBackupVerifyAndRestore(t *testing.T) {
	data, bdir := t.TempDir(), t.TempDir()
	s := openMailTest(t, data)
	mkAccount(t, s, "anna")
	body := "Subject: keep\r\n\r\n" + strings.Repeat("k", InlineMax+5)
	deliver(t, s, body, "anna")
	pb, err := s.WriteContent(strings.NewReader("klein"), -1)
	if err != nil || pb.Data == nil {
		t.Fatalf("small content not inline: %v", err)
	}
	if _, _, err := s.FilePut(HomeTree("anna"), "/small.txt", PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, ModTime: time.Now(), Limits: NoLimits()}); err != nil {
		t.Fatal(err)
	}
	pb.Release()
	r, err := s.Backup(bdir, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if r.Manifest.Counts.Inline != 1 || r.Manifest.Counts.Blobs != 1 {
		t.Fatalf("counts %+v", r.Manifest.Counts)
	}

	rep, err := VerifyBackups(bdir)
	if err != nil || !rep.OK() || len(rep.Findings) != 0 || rep.Files != 2 {
		t.Fatalf("verify healthy: %v %+v", err, rep)
	}

	// Restore refuses a directory that holds anything.
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "x"), nil, 0o600)
	if _, err := RestoreBackup(r.Path, busy); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore into non-empty: %v", err)
	}
	target := filepath.Join(t.TempDir(), "new")
	if _, err := RestoreBackup(r.Path, target); err != nil {
		t.Fatal(err)
	}
	s2 := openMailTest(t, target)
	if errs := s2.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if miss, err := s2.MissingBlobs(); err != nil || len(miss) != 0 {
		t.Fatalf("missing after restore: %v %v", miss, err)
	}
	c, err := s2.OpenContent(r.Manifest.Files[1].SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != body {
		t.Fatal("restored message differs")
	}
	e, rc, err := s2.FileOpen(HomeTree("anna"), "/small.txt")
	if err != nil || e.Size != 5 {
		t.Fatalf("restored file: %v", err)
	}
	got, _ = io.ReadAll(rc)
	rc.Close()
	if string(got) != "klein" {
		t.Fatalf("restored file %q", got)
	}
	s2.Close()

	// A corrupted blob (same size) and then a missing one are found.
	blob := filepath.Join(r.Path, r.Manifest.Files[1].Path)
	raw, _ := os.ReadFile(blob)
	raw[len(raw)-1] ^= 1
	os.Chmod(blob, 0o600)
	if err := os.WriteFile(blob, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _ = VerifyBackups(r.Path)
	if rep.OK() || !strings.Contains(errorTexts(rep), "Prüfsumme stimmt nicht") {
		t.Fatalf("corrupt blob not found: %+v", rep.Findings)
	}
	if _, err := RestoreBackup(r.Path, filepath.Join(t.TempDir(), "x")); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("restore of a corrupt backup: %v", err)
	}
	os.Remove(blob)
	rep, _ = VerifyBackups(r.Path)
	if rep.OK() || !strings.Contains(errorTexts(rep), r.Manifest.Files[1].Path+" fehlt") {
		t.Fatalf("missing blob not found: %+v", rep.Findings)
	}
	// A damaged database page fails bbolt's check or the open.
	dbPath := filepath.Join(r.Path, "schulhof.db")
	dbRaw, _ := os.ReadFile(dbPath)
	for i := 4096 * 2; i < len(dbRaw); i++ {
		dbRaw[i] = 0xff
	}
	os.WriteFile(dbPath, dbRaw, 0o600)
	rep, _ = VerifyBackups(r.Path)
	if !strings.Contains(errorTexts(rep), "schulhof.db: Prüfsumme stimmt nicht") ||
		!strings.Contains(errorTexts(rep), "Datenbank") {
		t.Fatalf("damaged db: %s", errorTexts(rep))
	}
}

// Small messages live inline in the database; bbolt does not wipe the
// pages it frees. A backup taken after an erasure must not carry the
// erased bytes in such pages: it holds only live values.
func TestBackupLeavesNoErasedInlineContent(t *testing.T) {
	data, bdir := t.TempDir(), t.TempDir()
	s := openMailTest(t, data)
	defer s.Close()
	mkAccount(t, s, "anna")
	mkAccount(t, s, "ben")
	secret := "GEHEIM-inline-7f3a9c"
	for i := 0; i < 50; i++ {
		pb, err := s.WriteContent(strings.NewReader(fmt.Sprintf("Subject: %d\r\n\r\n%s %d", i, secret, i)), -1)
		if err != nil || pb.Data == nil {
			t.Fatalf("not inline: %v", err)
		}
		if _, err := s.Deliver(Delivery{NewMessage: NewMessage{Blob: pb, Meta: []byte("{}")}, Recipients: []string{"anna"}}); err != nil {
			t.Fatal(err)
		}
		pb.Release()
	}
	deliver(t, s, "Subject: ben\r\n\r\nkeep me", "ben")
	if err := s.DeleteAccount("anna"); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(data, "schulhof.db"))
	t.Logf("erased bytes still in the live database file's free pages: %v", bytes.Contains(raw, []byte(secret)))
	r, err := s.Backup(bdir, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(filepath.Join(r.Path, "schulhof.db"))
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the backup's database holds erased mail")
	}
	if !bytes.Contains(raw, []byte("ben")) {
		t.Fatal("the backup lost live data")
	}
}

// dumpDB lists every bucket path, key, value and bucket sequence.
func dumpDB(t *testing.T, db *bolt.DB) []string {
	t.Helper()
	var out []string
	var walk func(path string, b *bolt.Bucket)
	walk = func(path string, b *bolt.Bucket) {
		out = append(out, fmt.Sprintf("%s seq=%d", path, b.Sequence()))
		b.ForEach(func(k, v []byte) error {
			if v == nil {
				walk(path+"/"+hex.EncodeToString(k), b.Bucket(k))
			} else {
				out = append(out, path+" "+hex.EncodeToString(k)+"="+hex.EncodeToString(v))
			}
			return nil
		})
	}
	db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { walk(string(name), b); return nil })
	})
	return out
}

// The compacted copy holds exactly what the database holds: every
// bucket, key, value and sequence (a nested bucket and a large value
// across the copy's commit size too).
func TestBackupCompactCopyIsExact(t *testing.T) {
	data, bdir := t.TempDir(), t.TempDir()
	s := openMailTest(t, data)
	mkAccount(t, s, "anna")
	for i := 0; i < 30; i++ {
		deliver(t, s, fmt.Sprintf("Subject: %d\r\n\r\n%s", i, strings.Repeat("m", i*1000)), "anna")
	}
	putString(t, s, HomeTree("anna"), "/a", "eins", -1)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("zz-test"))
		if err != nil {
			return err
		}
		b.SetSequence(77)
		n, err := b.CreateBucketIfNotExists([]byte("nested"))
		if err != nil {
			return err
		}
		n.SetSequence(5)
		big := bytes.Repeat([]byte("v"), compactTxBytes/2+1)
		for i := 0; i < 3; i++ { // commits inside the nested bucket
			if err := n.Put([]byte{byte(i)}, big); err != nil {
				return err
			}
		}
		return b.Put([]byte("after-nested"), []byte("x"))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := dumpDB(t, s.db) // before the backup's own audit record
	r, err := s.Backup(bdir, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	cp, err := bolt.Open(filepath.Join(r.Path, "schulhof.db"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	got := dumpDB(t, cp)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("compacted copy differs: %d entries, want %d", len(got), len(want))
	}
}

// A backup that fails half way leaves no folder that looks complete, and
// a damaged blob in the data directory is never copied as if good.
func TestBackupFailureLeavesNoHalfBackup(t *testing.T) {
	data, bdir := t.TempDir(), t.TempDir()
	s := openMailTest(t, data)
	defer s.Close()
	mkAccount(t, s, "anna")
	d := deliver(t, s, "Subject: x\r\n\r\n"+strings.Repeat("q", InlineMax+1), "anna")
	r1, err := s.Backup(bdir, BackupOptions{Now: fixedClock(time.Now(), time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	var hash string
	s.View(func(tx *Tx) error {
		m, err := tx.Message(d[0].Mailbox, d[0].UID)
		if err == nil {
			hash = m.Blob
		}
		return err
	})
	if hash == "" {
		t.Fatal("no blob hash")
	}
	if err := os.WriteFile(s.blobPath(hash), []byte("kaputt"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = s.Backup(bdir, BackupOptions{Full: true})
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("backup of a damaged blob: %v", err)
	}
	list, _ := ListBackups(bdir)
	entries, _ := os.ReadDir(bdir)
	if len(list) != 1 || list[0].Path != r1.Path || len(entries) != 2 { // r1 and .lock
		t.Fatalf("after a failed backup: %v %v", list, entries)
	}
}

// BackupWatch answers as LatestBackup does while backups come and go.
func TestBackupWatch(t *testing.T) {
	data, bdir := t.TempDir(), t.TempDir()
	s := openMailTest(t, data)
	defer s.Close()
	w := &BackupWatch{Dir: bdir}
	if _, err := w.Latest(); !errors.Is(err, ErrNoBackup) {
		t.Fatalf("empty dir: %v, want ErrNoBackup", err)
	}
	clock := fixedClock(time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC), time.Hour)
	r1, err := s.Backup(bdir, BackupOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second answer comes from the cache
		if got, err := w.Latest(); err != nil || !got.Equal(r1.Manifest.Created) {
			t.Fatalf("after one backup: %v, %v; want %v", got, err, r1.Manifest.Created)
		}
	}
	r2, err := s.Backup(bdir, BackupOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.Latest(); err != nil || !got.Equal(r2.Manifest.Created) {
		t.Fatalf("after two backups: %v, %v; want %v", got, err, r2.Manifest.Created)
	}
	if err := os.RemoveAll(r2.Path); err != nil {
		t.Fatal(err)
	}
	if got, err := w.Latest(); err != nil || !got.Equal(r1.Manifest.Created) {
		t.Fatalf("newest removed: %v, %v; want %v", got, err, r1.Manifest.Created)
	}
	if len(w.seen) != 1 {
		t.Fatalf("cache keeps %d manifests, want 1", len(w.seen))
	}
}
