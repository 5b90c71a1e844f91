package store

// A backup directory holds one folder per backup, named by its UTC time
// (2026-12-01T223000Z, a "-2" suffix when two fall in one second):
//
//	DIR/<time>/schulhof.db      the snapshot of one read transaction
//	DIR/<time>/blobs/ab/cdef…   exactly the blob files that snapshot
//	                            references (hard links to an earlier
//	                            backup's copy where it has one)
//	DIR/<time>/manifest.json    BackupManifest: checksums of every file
//	DIR/.tmp-*                  a backup being written; renamed to its
//	                            <time> name only when complete and synced
//	DIR/.lock                   held (flock) while a backup or prune runs
//
// A folder with a manifest.json is complete: the manifest is the last
// file written before the rename.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BackupFormat is the version of the backup layout written by Backup.
const BackupFormat = 1

const (
	backupManifestName = "manifest.json"
	backupDBName       = "schulhof.db"
	backupTimeLayout   = "2006-01-02T150405Z"
	backupTmpPrefix    = ".tmp-"
)

// ErrNoBackup means a directory holds no complete backup.
var ErrNoBackup = errors.New("no complete backup")

// BackupManifest describes one complete backup.
type BackupManifest struct {
	Format  int          `json:"format"`
	Created time.Time    `json:"created"`
	Schema  uint64       `json:"schema"`
	Full    bool         `json:"full"` // every blob copied, none linked
	Counts  BackupCounts `json:"counts"`
	Bytes   BackupBytes  `json:"bytes"`
	// Files lists every file of the backup but the manifest: the
	// database first, then the blobs (a blob's SHA-256 is its name).
	Files []BackupFile `json:"files"`
}

// BackupCounts are what the snapshot holds.
type BackupCounts struct {
	Accounts    int `json:"accounts"`
	Mailboxes   int `json:"mailboxes"`
	Messages    int `json:"messages"`
	FileEntries int `json:"file_entries"`
	Blobs       int `json:"blobs"`  // blob files
	Inline      int `json:"inline"` // contents kept inside the database
}

// BackupBytes are the sizes of a backup and what writing it cost.
type BackupBytes struct {
	DB     int64 `json:"db"`
	Blobs  int64 `json:"blobs"`
	Copied int64 `json:"copied"` // written anew (the database and new blobs)
	Linked int64 `json:"linked"` // hard-linked from an earlier backup
}

// BackupFile is one file of a backup with its checksum.
type BackupFile struct {
	Path   string `json:"path"` // relative, with "/"
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Linked bool   `json:"linked,omitempty"`
}

// BackupInfo names one complete backup in a backup directory.
type BackupInfo struct {
	Path    string // the backup's folder
	Name    string
	Created time.Time
}

// ListBackups returns the complete backups in dir, oldest first.
func ListBackups(dir string) ([]BackupInfo, error) {
	return listBackups(dir, readManifestHead)
}

// listBackups is ListBackups with the manifest reader given.
func listBackups(dir string, head func(string) (*BackupManifest, error)) ([]BackupInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []BackupInfo
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		m, err := head(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // not a backup, or not complete
		}
		out = append(out, BackupInfo{Path: filepath.Join(dir, e.Name()), Name: e.Name(), Created: m.Created})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// LatestBackup returns when the newest complete backup in dir was taken
// (for doctor and the scheduler); ErrNoBackup if there is none.
func LatestBackup(dir string) (time.Time, error) {
	return latestBackup(dir, readManifestHead)
}

// BackupWatch is LatestBackup for a caller that asks again and again (the
// backup-age metric, at every scrape): a manifest lists every blob of its
// backup, so it is read again only when its size or time changed.
type BackupWatch struct {
	Dir string

	mu   sync.Mutex
	seen map[string]seenManifest // backup folder → its manifest as last read
}

type seenManifest struct {
	size int64
	mod  time.Time
	m    *BackupManifest
	err  error
}

// Latest is LatestBackup(w.Dir).
func (w *BackupWatch) Latest() (time.Time, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]seenManifest{}
	t, err := latestBackup(w.Dir, func(path string) (*BackupManifest, error) {
		fi, err := os.Stat(filepath.Join(path, backupManifestName))
		if err != nil {
			return nil, err
		}
		old, ok := w.seen[path]
		if !ok || old.size != fi.Size() || !old.mod.Equal(fi.ModTime()) {
			old = seenManifest{size: fi.Size(), mod: fi.ModTime()}
			old.m, old.err = readManifestHead(path)
		}
		seen[path] = old // pruned backups drop out
		return old.m, old.err
	})
	w.seen = seen
	return t, err
}

func latestBackup(dir string, head func(string) (*BackupManifest, error)) (time.Time, error) {
	list, err := listBackups(dir, head)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return time.Time{}, fmt.Errorf("%s: %w", dir, ErrNoBackup)
		}
		return time.Time{}, err
	}
	if len(list) == 0 {
		return time.Time{}, fmt.Errorf("%s: %w", dir, ErrNoBackup)
	}
	return list[len(list)-1].Created, nil
}

// readManifestHead reads a backup's manifest without its file list.
func readManifestHead(path string) (*BackupManifest, error) {
	var head struct {
		Format  int       `json:"format"`
		Created time.Time `json:"created"`
		Schema  uint64    `json:"schema"`
	}
	raw, err := os.ReadFile(filepath.Join(path, backupManifestName))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, err
	}
	if head.Format < 1 || head.Created.IsZero() {
		return nil, fmt.Errorf("%s: not a backup manifest", path)
	}
	return &BackupManifest{Format: head.Format, Created: head.Created, Schema: head.Schema}, nil
}

// ReadBackupManifest reads a backup's whole manifest.
func ReadBackupManifest(path string) (*BackupManifest, error) {
	raw, err := os.ReadFile(filepath.Join(path, backupManifestName))
	if err != nil {
		return nil, err
	}
	var m BackupManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", backupManifestName, err)
	}
	if m.Format < 1 || m.Created.IsZero() {
		return nil, fmt.Errorf("%s: not a backup manifest", path)
	}
	return &m, nil
}

// lockBackupDir takes DIR/.lock so that one backup or prune runs at a
// time; a second is refused rather than queued.
func lockBackupDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: another backup is running", dir)
	}
	return func() { f.Close() }, nil
}

// PruneBackups removes the complete backups in dir taken at or before
// now-keep, and leftovers of interrupted backups (.tmp-*). A blob file
// hard-linked into a newer backup stays there: only this backup's link
// goes. It returns the names removed.
func PruneBackups(dir string, keep time.Duration, now time.Time) ([]string, error) {
	unlock, err := lockBackupDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	list, err := ListBackups(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	cut := now.Add(-keep)
	for _, b := range list {
		if b.Created.After(cut) {
			continue
		}
		if err := os.RemoveAll(b.Path); err != nil {
			return removed, err
		}
		removed = append(removed, b.Name)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return removed, err
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), backupTmpPrefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return removed, err
			}
		}
	}
	return removed, syncDir(dir)
}
