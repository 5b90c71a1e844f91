package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Observer is told how long the store's disk work takes, for metrics
// (Options.Observer). It must be quick and safe for concurrent use.
type Observer interface {
	// Commit: one bbolt write transaction, its fsync included; group is
	// true for a round of the group commit (groupcommit.go).
	Commit(group bool, d time.Duration)
	// BlobSync: the fsync of one new blob file.
	BlobSync(d time.Duration)
}

// observedUpdate is db.Update, timed for the observer.
func (s *Store) observedUpdate(group bool, fn func(*bolt.Tx) error) error {
	if s.observer == nil {
		return s.db.Update(fn)
	}
	start := time.Now()
	err := s.db.Update(fn)
	s.observer.Commit(group, time.Since(start))
	return err
}

// Usage is what the store takes on disk.
type Usage struct {
	DBBytes   int64 // schulhof.db
	Blobs     int64 // blob files under blobs/ (not blobs/tmp)
	BlobBytes int64
}

// Usage measures the database file and walks the blob folder. The walk
// costs one stat per blob: callers cache the answer.
func (s *Store) Usage() (Usage, error) {
	var u Usage
	fi, err := os.Stat(filepath.Join(s.dir, "schulhof.db"))
	if err != nil {
		return u, err
	}
	u.DBBytes = fi.Size()
	err = s.walkBlobs(func(_, hash string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		if !validHash(hash) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed while we walked
		}
		u.Blobs++
		u.BlobBytes += info.Size()
		return nil
	})
	return u, err
}

// CheckWritable proves the store takes writes now: a write transaction
// commits (bbolt writes and fsyncs its meta page) and a file can be
// created in the blob folder. For readiness probes.
func (s *Store) CheckWritable() error {
	if err := s.db.Update(func(*bolt.Tx) error { return nil }); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, "blobs", "tmp"), "probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
