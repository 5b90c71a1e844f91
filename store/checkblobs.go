package store

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// BlobReport compares the blob directory with the reference counts
// (blobrefs): every counted hash must be a blob file or inline content
// whose SHA-256 is its name, and every blob file must be counted.
type BlobReport struct {
	Counted   int      // hashes with a reference count
	Inline    int      // of those, kept inline in the database
	Files     int      // blob files found
	Bytes     int64    // their size together
	Missing   []string // counted, but neither a file nor inline
	WrongHash []string // content does not match its name (damaged)
	Orphans   []string // blob files nothing counts (removed at the next start)
}

// CheckBlobs reads every blob and inline content and hashes it. The
// reference counts are read in short transactions, not one across all the
// hashing, so a long check does not hold up the writers; a blob removed
// or written meanwhile is looked up again before it is reported.
func (s *Store) CheckBlobs() (BlobReport, error) {
	var r BlobReport
	refs := map[string]bool{} // hash → inline
	err := s.db.View(func(tx *bolt.Tx) error {
		inline := tx.Bucket(bucketFileInline)
		return tx.Bucket(bucketBlobRefs).ForEach(func(k, _ []byte) error {
			refs[string(k)] = inline != nil && inline.Get(k) != nil
			return nil
		})
	})
	if err != nil {
		return r, err
	}
	r.Counted = len(refs)
	var missing, wrong, orphans []string
	for h, isInline := range refs {
		if isInline {
			r.Inline++
			var ok bool
			s.db.View(func(tx *bolt.Tx) error {
				if v := tx.Bucket(bucketFileInline).Get([]byte(h)); v != nil {
					sum := sha256.Sum256(v)
					ok = hex.EncodeToString(sum[:]) == h
				}
				return nil
			})
			if !ok {
				wrong = append(wrong, h)
			}
			continue
		}
		if !validHash(h) {
			wrong = append(wrong, h)
			continue
		}
		got, err := hashFile(s.blobPath(h))
		switch {
		case os.IsNotExist(err):
			missing = append(missing, h)
		case err != nil:
			return r, err
		case got != h:
			wrong = append(wrong, h)
		}
	}
	root := filepath.Join(s.dir, "blobs")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == filepath.Join(root, "tmp") {
				return fs.SkipDir
			}
			return nil
		}
		r.Files++
		if fi, err := d.Info(); err == nil {
			r.Bytes += fi.Size()
		}
		rel, _ := filepath.Rel(root, path)
		h := strings.ReplaceAll(rel, string(filepath.Separator), "")
		if _, counted := refs[h]; !counted {
			orphans = append(orphans, h)
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	// Look again: what changed since the first read is no finding.
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	err = s.db.View(func(tx *bolt.Tx) error {
		counts, inline := tx.Bucket(bucketBlobRefs), tx.Bucket(bucketFileInline)
		stillCounted := func(h string) bool { return counts.Get([]byte(h)) != nil }
		for _, h := range missing {
			if stillCounted(h) && (inline == nil || inline.Get([]byte(h)) == nil) {
				r.Missing = append(r.Missing, h)
			}
		}
		for _, h := range wrong {
			if stillCounted(h) {
				r.WrongHash = append(r.WrongHash, h)
			}
		}
		for _, h := range orphans {
			if !stillCounted(h) && s.blobPending[h] == 0 {
				r.Orphans = append(r.Orphans, h)
			}
		}
		return nil
	})
	sort.Strings(r.Missing)
	sort.Strings(r.WrongHash)
	sort.Strings(r.Orphans)
	return r, err
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
