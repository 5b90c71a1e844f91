package store

// Restore copies one backup into an empty data directory. Every file is
// checked against the manifest while it is copied; the database is written
// last under a temporary name and renamed, so a restore that stops half
// way never leaves a data directory that opens as if it were complete.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrNotEmpty means the restore target already holds something.
var ErrNotEmpty = errors.New("data directory is not empty")

// RestoreBackup restores the backup folder from into dataDir, which must
// be empty or missing. It returns the backup's manifest.
func RestoreBackup(from, dataDir string) (*BackupManifest, error) {
	m, err := ReadBackupManifest(from)
	if err != nil {
		return nil, err
	}
	if m.Format > BackupFormat {
		return nil, fmt.Errorf("backup format %d is newer than this program (%d)", m.Format, BackupFormat)
	}
	if m.Schema > SchemaVersion {
		return nil, fmt.Errorf("%w (%d > %d)", ErrNewerSchema, m.Schema, SchemaVersion)
	}
	if entries, err := os.ReadDir(dataDir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s: %w", dataDir, ErrNotEmpty)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dataDir, "blobs", "tmp"), 0o700); err != nil {
		return nil, err
	}
	var db *BackupFile
	dirs := map[string]bool{}
	buf := make([]byte, 1<<20)
	for i, f := range m.Files {
		if !cleanRel(f.Path) {
			return nil, fmt.Errorf("manifest: bad path %q", f.Path)
		}
		if f.Path == backupDBName {
			db = &m.Files[i]
			continue
		}
		h, ok := blobPathHash(f.Path)
		if !ok || h != f.SHA256 {
			return nil, fmt.Errorf("manifest: %s is not a blob", f.Path)
		}
		dst := filepath.Join(dataDir, filepath.FromSlash(f.Path))
		if !dirs[filepath.Dir(dst)] {
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return nil, err
			}
			dirs[filepath.Dir(dst)] = true
		}
		if _, err := copyBlob(filepath.Join(from, filepath.FromSlash(f.Path)), dst, h, buf, !haveSyncFS); err != nil {
			return nil, err
		}
	}
	if db == nil {
		return nil, fmt.Errorf("manifest names no %s", backupDBName)
	}
	// The blobs are durable before the database that references them.
	if err := syncTree(dataDir, dirs); err != nil {
		return nil, err
	}
	tmp := filepath.Join(dataDir, backupDBName+".restore")
	if err := copyChecked(filepath.Join(from, backupDBName), tmp, db.SHA256, buf); err != nil {
		return nil, err
	}
	// A log left by the database this one replaces must not be applied
	// to it (bbolt would ignore it, as it continues no meta page here).
	if err := os.Remove(filepath.Join(dataDir, backupDBName+"-wal")); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err := syncDir(dataDir); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dataDir, backupDBName)); err != nil {
		return nil, err
	}
	if err := syncDir(dataDir); err != nil {
		return nil, err
	}
	return m, checkRestored(dataDir)
}

// checkRestored opens the restored directory as the server will (older
// schemas are migrated) and checks the database and its blobs.
func checkRestored(dataDir string) error {
	s, err := Open(dataDir, Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	if errs := s.Check(); len(errs) > 0 {
		return fmt.Errorf("restored database fails the check: %w", errors.Join(errs...))
	}
	miss, err := s.MissingBlobs()
	if err != nil {
		return err
	}
	if len(miss) > 0 {
		return fmt.Errorf("restored data lacks %d blobs (first %s)", len(miss), miss[0])
	}
	return nil
}

// copyChecked copies src to dst (synced) and fails if the content's
// SHA-256 is not sum.
func copyChecked(src, dst, sum string, buf []byte) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(io.MultiWriter(out, h), in, buf); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		os.Remove(dst)
		return fmt.Errorf("%s is damaged (checksum %s, manifest %s)", src, got, sum)
	}
	if err := out.Sync(); err != nil {
		return err
	}
	return out.Close()
}

// MissingBlobs lists the blob files the database references that are not
// in the blob directory (inline contents are inside the database).
func (s *Store) MissingBlobs() ([]string, error) {
	var missing []string
	err := s.view(func(t *Tx) error {
		inline := t.bucket(bucketFileInline)
		return t.bucket(bucketBlobRefs).ForEach(func(k, _ []byte) error {
			h := string(k)
			if inline.Get(k) != nil || !validHash(h) {
				return nil
			}
			if _, err := os.Stat(s.blobPath(h)); errors.Is(err, os.ErrNotExist) {
				missing = append(missing, h)
			}
			return nil
		})
	})
	return missing, err
}
