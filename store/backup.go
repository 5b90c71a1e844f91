package store

// Online backup: the database is copied from one read transaction
// (compacted, backup_compact.go; or page by page with Tx.WriteTo), and the
// blob list comes from the same transaction, so the copy and its blobs are one consistent point in
// time while writers go on committing. Blob files are immutable; the only
// danger is removal of a blob the snapshot still references, after a
// later commit dropped its last reference. A backup therefore holds the
// blob removals (backupHold) from before its transaction begins until the
// last blob is copied; removals asked for meanwhile run when it ends.
//
// Layout and manifest: backup_dir.go.

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BackupOptions tune Backup.
type BackupOptions struct {
	// Full copies every blob; otherwise blobs present in an earlier backup
	// in the same directory are hard-linked.
	Full bool
	// Now is the clock (tests inject one); nil is time.Now.
	Now func() time.Time
	// Actor is recorded in the audit log ("cli:<user>", "schedule").
	Actor string
	// Raw copies the database page by page (Tx.WriteTo): faster, but it
	// keeps freed pages and with them erased values (backup_compact.go).
	Raw bool
}

// BackupResult is a finished backup.
type BackupResult struct {
	Path     string
	Manifest *BackupManifest
}

// backupHoldState lives under blobMu: while n > 0, removeUnreferenced
// (blobs.go) only notes what it would remove.
type backupHoldState struct {
	n        int
	deferred []string
}

func (s *Store) holdBlobRemoval() {
	s.blobMu.Lock()
	s.hold.n++
	s.blobMu.Unlock()
}

func (s *Store) releaseBlobRemoval() {
	s.blobMu.Lock()
	s.hold.n--
	var run []string
	if s.hold.n == 0 {
		run, s.hold.deferred = s.hold.deferred, nil
	}
	s.blobMu.Unlock()
	// Held removals may come from an erasure: scrub them all (zeroing a
	// file nobody erased costs only time).
	s.removeUnreferenced(run, true)
}

// backupBlob is one blob file the snapshot references.
type backupBlob struct{ hash string }

// Backup writes a new backup folder into dir (created if missing) and
// returns it once it is complete and durable.
func (s *Store) Backup(dir string, opt BackupOptions) (*BackupResult, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	if inside(s.dir, dir) {
		return nil, fmt.Errorf("backup directory %s lies inside the data directory %s", dir, s.dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	unlock, err := lockBackupDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	earlier := map[string]string{} // blob hash → its file in an earlier backup
	if !opt.Full {
		if earlier, err = indexEarlierBlobs(dir); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(dir, backupTmpPrefix)
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, err
	}

	m := &BackupManifest{Format: BackupFormat, Full: opt.Full}
	s.holdBlobRemoval()
	held := true
	release := func() {
		if held {
			held = false
			s.releaseBlobRemoval()
		}
	}
	defer release()
	var blobs []backupBlob
	err = s.db.View(func(tx *bolt.Tx) error {
		m.Created = now().UTC()
		if raw := tx.Bucket(bucketMeta).Get([]byte("schema")); len(raw) == 8 {
			m.Schema = binary.BigEndian.Uint64(raw)
		}
		write := writeCompact
		if opt.Raw {
			write = writeSnapshot
		}
		f, err := write(tx, filepath.Join(tmp, backupDBName), !haveSyncFS)
		if err != nil {
			return err
		}
		m.Files = append(m.Files, f)
		m.Bytes.DB, m.Bytes.Copied = f.Size, f.Size
		blobs, m.Counts = snapshotContents(tx)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}

	files, dirs, err := s.backupBlobs(tmp, blobs, earlier)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Linked {
			m.Bytes.Linked += f.Size
		} else {
			m.Bytes.Copied += f.Size
		}
		m.Bytes.Blobs += f.Size
	}
	m.Files = append(m.Files, files...)
	release() // every referenced blob is copied or linked

	if err := syncTree(tmp, dirs); err != nil {
		return nil, err
	}
	if err := writeManifest(tmp, m); err != nil {
		return nil, err
	}
	final, err := backupName(dir, m.Created)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, err
	}
	done = true
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	// A backup copies every mailbox and file: it leaves an audit trace.
	err = s.Update(func(t *Tx) error {
		return t.Audit(AuditRecord{Time: m.Created, Actor: opt.Actor, Action: "backup",
			Target: final, Detail: fmt.Sprintf("%d blobs, %d bytes copied, %d linked", m.Counts.Blobs, m.Bytes.Copied, m.Bytes.Linked)})
	})
	if err != nil {
		return nil, fmt.Errorf("backup %s complete, audit record failed: %w", final, err)
	}
	return &BackupResult{Path: final, Manifest: m}, nil
}

// backupWorkers copy blobs at once: the copying waits on the disks, so a
// few in parallel keep them busy.
const backupWorkers = 4

// backupBlobs links or copies every blob into the backup folder tmp and
// returns their manifest entries in the order of blobs and the folders
// made.
func (s *Store) backupBlobs(tmp string, blobs []backupBlob, earlier map[string]string) ([]BackupFile, map[string]bool, error) {
	dirs := map[string]bool{}
	for _, b := range blobs {
		d := filepath.Join(tmp, "blobs", b.hash[:2])
		if !dirs[d] {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return nil, nil, err
			}
			dirs[d] = true
		}
	}
	files := make([]BackupFile, len(blobs))
	errs := make([]error, backupWorkers)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < backupWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			for i := range next {
				if errs[w] != nil {
					continue // drain
				}
				files[i], errs[w] = s.backupBlob(tmp, blobs[i].hash, earlier[blobs[i].hash], buf)
			}
		}()
	}
	for i := range blobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return files, dirs, errors.Join(errs...)
}

// backupBlob hard-links the blob from an earlier backup (prev) or copies
// it from the data directory.
func (s *Store) backupBlob(tmp, hash, prev string, buf []byte) (BackupFile, error) {
	rel := filepath.Join("blobs", hash[:2], hash[2:])
	dst := filepath.Join(tmp, rel)
	f := BackupFile{Path: filepath.ToSlash(rel), SHA256: hash}
	if prev != "" {
		if err := os.Link(prev, dst); err == nil {
			fi, err := os.Stat(dst)
			if err != nil {
				return f, err
			}
			f.Size, f.Linked = fi.Size(), true
			return f, nil
		}
		// Not linkable (another file system, gone): copy it.
	}
	n, err := copyBlob(s.blobPath(hash), dst, hash, buf, !haveSyncFS)
	f.Size = n
	return f, err
}

// inside reports whether p is root or below it.
func inside(root, p string) bool {
	ar, err1 := filepath.Abs(root)
	ap, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(ar, ap)
	return err == nil && (rel == "." || !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != "..")
}

// writeSnapshot copies the transaction's database into path (synced when
// sync; else syncTree does it).
func writeSnapshot(tx *bolt.Tx, path string, sync bool) (BackupFile, error) {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return BackupFile{}, err
	}
	defer out.Close()
	h := sha256.New()
	n, err := tx.WriteTo(io.MultiWriter(out, h))
	if err != nil {
		return BackupFile{}, err
	}
	if sync {
		if err := out.Sync(); err != nil {
			return BackupFile{}, err
		}
	}
	if err := out.Close(); err != nil {
		return BackupFile{}, err
	}
	return BackupFile{Path: backupDBName, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// snapshotContents lists the blob files the snapshot references (counted
// hashes that are not inline) and counts what it holds.
func snapshotContents(tx *bolt.Tx) ([]backupBlob, BackupCounts) {
	var c BackupCounts
	inline := tx.Bucket(bucketFileInline)
	var blobs []backupBlob
	tx.Bucket(bucketBlobRefs).ForEach(func(k, _ []byte) error {
		if inline.Get(k) != nil {
			c.Inline++
			return nil
		}
		if h := string(k); validHash(h) {
			blobs = append(blobs, backupBlob{hash: h})
		}
		return nil
	})
	c.Blobs = len(blobs)
	keys := func(name []byte) int {
		if b := tx.Bucket(name); b != nil {
			return b.Stats().KeyN
		}
		return 0
	}
	c.Accounts = keys(bucketAccounts)
	c.Mailboxes = keys(bucketMailboxes)
	c.Messages = keys(bucketMailMsgs)
	c.FileEntries = keys(bucketFileEntries)
	return blobs, c
}

// copyBlob copies a blob file, checking its content against its name (a
// damaged blob is never written into a backup as if it were good), and
// syncs the copy when sync (else syncTree does).
func copyBlob(src, dst, hash string, buf []byte, sync bool) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", hash, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(out, h), in, buf)
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", hash, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != hash {
		return 0, fmt.Errorf("blob %s is damaged in the data directory (its content hashes to %s)", hash, got)
	}
	if sync {
		if err := out.Sync(); err != nil {
			return 0, err
		}
	}
	return n, out.Close()
}

// syncTree makes everything written under root durable: one syncfs where
// there is one, else the folders (the files were synced one by one).
func syncTree(root string, dirs map[string]bool) error {
	if haveSyncFS {
		return syncFS(root)
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	if len(dirs) > 0 {
		if err := syncDir(filepath.Join(root, "blobs")); err != nil {
			return err
		}
	}
	return syncDir(root)
}

// writeManifest writes manifest.json synced, then syncs the folder: the
// manifest is the last file of a backup.
func writeManifest(dir string, m *BackupManifest) error {
	raw, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, backupManifestName), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(append(raw, '\n')); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return syncDir(dir)
}

// backupName is the folder name for a backup taken at t, unused in dir.
func backupName(dir string, t time.Time) (string, error) {
	base := t.UTC().Format(backupTimeLayout)
	for i := 1; i < 1000; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: too many backups named %s", dir, base)
}

// indexEarlierBlobs maps every blob of the complete backups in dir to one
// of its files, the newest backup's first.
func indexEarlierBlobs(dir string) (map[string]string, error) {
	list, err := ListBackups(dir)
	if err != nil {
		return nil, err
	}
	idx := map[string]string{}
	for i := len(list) - 1; i >= 0; i-- {
		m, err := ReadBackupManifest(list[i].Path)
		if err != nil {
			continue
		}
		for _, f := range m.Files {
			h, ok := blobPathHash(f.Path)
			if !ok || h != f.SHA256 {
				continue
			}
			if _, seen := idx[h]; !seen {
				idx[h] = filepath.Join(list[i].Path, filepath.FromSlash(f.Path))
			}
		}
	}
	return idx, nil
}

// blobPathHash reads the hash from a manifest path "blobs/ab/cdef…".
func blobPathHash(p string) (string, bool) {
	parts := strings.Split(p, "/")
	if len(parts) != 3 || parts[0] != "blobs" || len(parts[1]) != 2 {
		return "", false
	}
	h := parts[1] + parts[2]
	return h, validHash(h)
}
