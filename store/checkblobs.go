package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

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
	// Recounted from the references themselves (messages and file
	// entries): a count below the references found frees content still
	// in use when it reaches zero; one above never frees it.
	Undercounted, Overcounted []RefMismatch
}

// RefMismatch is a hash whose count differs from its references.
type RefMismatch struct {
	Hash           string
	Counted, Found uint64
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
		counts := map[string]uint64{}
		err := tx.Bucket(bucketBlobRefs).ForEach(func(k, v []byte) error {
			refs[string(k)] = inline != nil && inline.Get(k) != nil
			if len(v) == 8 {
				counts[string(k)] = binary.BigEndian.Uint64(v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		found, err := countReferences(tx)
		if err != nil {
			return err
		}
		r.Undercounted, r.Overcounted = compareCounts(counts, found)
		return nil
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
					ok = hex.EncodeToString(sum[:]) == keyHash(h)
				}
				return nil
			})
			if !ok {
				wrong = append(wrong, h)
			}
			continue
		}
		if isSeqKey(h) { // inline mail whose content is gone
			missing = append(missing, h)
			continue
		}
		if !validHash(h) {
			wrong = append(wrong, h)
			continue
		}
		got, _, err := hashFile(s.blobPath(h), nil)
		switch {
		case os.IsNotExist(err):
			missing = append(missing, h)
		case err != nil:
			return r, err
		case got != h:
			wrong = append(wrong, h)
		}
	}
	err = s.walkBlobs(func(_, h string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r.Files++
		if fi, err := d.Info(); err == nil {
			r.Bytes += fi.Size()
		}
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

// countReferences counts what references content, in one snapshot:
// messages (mailmsgs) and file entries (fileentries, those under removed
// folders included until the reaper drops them). Every refBlob caller
// must be counted here.
func countReferences(tx *bolt.Tx) (map[string]uint64, error) {
	found := map[string]uint64{}
	if b := tx.Bucket(bucketMailMsgs); b != nil {
		err := b.ForEach(func(_, v []byte) error {
			var m Message
			if err := decodeMessage(v, &m); err != nil {
				return err
			}
			found[m.Blob]++
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("mailmsgs: %w", err)
		}
	}
	if b := tx.Bucket(bucketFileEntries); b != nil {
		err := b.ForEach(func(_, v []byte) error {
			var e FileEntry
			if err := decodeEntry(v, &e); err != nil {
				return err
			}
			if !e.Dir && e.Hash != "" {
				found[e.Hash]++
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("fileentries: %w", err)
		}
	}
	if err := countHomeworkReferences(tx, found); err != nil {
		return nil, err
	}
	return found, nil
}

func compareCounts(counts, found map[string]uint64) (under, over []RefMismatch) {
	for h, n := range found {
		if c := counts[h]; c < n {
			under = append(under, RefMismatch{h, c, n})
		}
	}
	for h, c := range counts {
		if n := found[h]; c > n {
			over = append(over, RefMismatch{h, c, n})
		}
	}
	byHash := func(l []RefMismatch) {
		sort.Slice(l, func(i, j int) bool { return l[i].Hash < l[j].Hash })
	}
	byHash(under)
	byHash(over)
	return under, over
}

// hashFile returns the SHA-256 and size of a file: the one file hasher for
// the blob check, the backup manifest and its verification (buf may be nil).
func hashFile(path string, buf []byte) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, buf)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
