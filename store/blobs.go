package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrTooLarge is returned by WriteBlob when the content exceeds its limit.
// Nothing is kept of the partial content.
var ErrTooLarge = errors.New("content exceeds the size limit")

// Blob names immutable content by its SHA-256.
type Blob struct {
	Hash string // lower-case hex SHA-256
	Size int64
}

// PendingBlob is a blob written to disk but not yet referenced by a
// committed transaction. Release it once the referencing transaction has
// committed (or failed): until then no sweep removes it.
type PendingBlob struct {
	Blob
	// Data is small content kept in memory by WriteContent, to be stored
	// inline by FilePut (inline.go); nil for a blob file.
	Data     []byte
	s        *Store
	released bool
}

func (s *Store) blobPath(hash string) string {
	return filepath.Join(s.dir, "blobs", hash[:2], hash[2:])
}

// validHash keeps a hash from a database value from naming any other path.
func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil && strings.ToLower(h) == h
}

// WriteBlob streams r into a new blob, at most max bytes (max < 0: no
// limit). The content is fsynced and renamed into place before it returns,
// so a transaction that references it may commit right after.
func (s *Store) WriteBlob(r io.Reader, max int64) (*PendingBlob, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "blobs", "tmp"), "blob-*")
	if err != nil {
		return nil, err
	}
	defer func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	src := r
	if max >= 0 {
		src = io.LimitReader(r, max+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if err != nil {
		return nil, err
	}
	if max >= 0 && n > max {
		return nil, ErrTooLarge
	}
	hash := hex.EncodeToString(h.Sum(nil))
	final := s.blobPath(hash)
	dir := filepath.Dir(final)

	// The file is renamed into place before its fsync: on ext4 the
	// fsync's journal commit then carries the rename too, and the folder's
	// fsync that follows finds little left to do (about 0.1 ms less per
	// blob here). Until both fsyncs are done the file is in blobSyncing:
	// a writer of the same content waits for them instead of trusting the
	// name, and a failed fsync takes the name away again.
	for {
		s.blobMu.Lock()
		done, busy := s.blobSyncing[hash]
		if !busy {
			break
		}
		s.blobMu.Unlock()
		if onBlobWait != nil {
			onBlobWait()
		}
		<-done
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		s.blobMu.Unlock()
		return nil, err
	}
	if _, err := os.Stat(final); err == nil {
		os.Remove(tmp.Name()) // same content is already there, durable
		tmp.Close()
		tmp = nil
		s.blobPending[hash]++
		s.blobMu.Unlock()
		return &PendingBlob{Blob: Blob{Hash: hash, Size: n}, s: s}, nil
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		s.blobMu.Unlock()
		return nil, err
	}
	done := make(chan struct{})
	s.blobSyncing[hash] = done
	s.blobPending[hash]++
	s.blobMu.Unlock()

	synced := time.Now()
	err = tmp.Sync()
	if s.observer != nil && err == nil {
		s.observer.BlobSync(time.Since(synced))
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	tmp = nil
	if err == nil {
		err = syncDir(dir)
	}
	if err == nil && blobSyncFault != nil {
		err = blobSyncFault()
	}
	s.blobMu.Lock()
	delete(s.blobSyncing, hash)
	close(done)
	if err != nil {
		os.Remove(final) // nothing references it yet
		if s.blobPending[hash]--; s.blobPending[hash] <= 0 {
			delete(s.blobPending, hash)
		}
	}
	s.blobMu.Unlock()
	if err != nil {
		return nil, err
	}
	return &PendingBlob{Blob: Blob{Hash: hash, Size: n}, s: s}, nil
}

// Test hooks: onBlobWait runs when a writer waits for another's fsyncs of
// the same content; blobSyncFault, when it returns an error, stands for a
// failed fsync.
var (
	onBlobWait    func()
	blobSyncFault func() error
)

// Release ends the blob's protection from removal. Call it after the
// transaction that references the blob has committed or failed; a blob
// that nothing references is then removed.
func (p *PendingBlob) Release() {
	if p == nil || p.released {
		return
	}
	p.released = true
	s := p.s
	s.blobMu.Lock()
	s.blobPending[p.Hash]--
	if s.blobPending[p.Hash] <= 0 {
		delete(s.blobPending, p.Hash)
	}
	s.blobMu.Unlock()
	s.removeUnreferenced([]string{p.Hash}, false)
}

// OpenBlob opens a blob's content for reading.
func (s *Store) OpenBlob(hash string) (*os.File, error) {
	if !validHash(hash) {
		return nil, fmt.Errorf("invalid blob hash %q", hash)
	}
	return os.Open(s.blobPath(hash))
}

// refBlob adds one reference to a blob inside a transaction. A new kind
// of reference must also be counted by countReferences (checkblobs.go), or
// schulhof doctor reports its counts as too high.
func (t *Tx) refBlob(hash string) error {
	if !validKey(hash) {
		return fmt.Errorf("invalid blob hash %q", hash)
	}
	b := t.bucket(bucketBlobRefs)
	n := uint64(0)
	if v := b.Get([]byte(hash)); v != nil {
		n = binary.BigEndian.Uint64(v)
	}
	return b.Put([]byte(hash), u64(n+1))
}

// unrefBlob drops one reference; at zero the blob is removed after commit.
func (t *Tx) unrefBlob(hash string) error {
	b := t.bucket(bucketBlobRefs)
	v := b.Get([]byte(hash))
	if v == nil {
		return fmt.Errorf("blob %s has no references", hash)
	}
	n := binary.BigEndian.Uint64(v)
	if n <= 1 {
		t.unref = append(t.unref, hash)
		if v := t.bucket(bucketFileInline).Get([]byte(hash)); v != nil {
			t.freed += int64(len(v))
		}
		if err := t.bucket(bucketFileInline).Delete([]byte(hash)); err != nil {
			return err
		}
		return b.Delete([]byte(hash))
	}
	return b.Put([]byte(hash), u64(n-1))
}

// removeUnreferenced deletes blob files that have no references and are
// not pending, and returns the bytes they held. With scrub (an erasure)
// each file is overwritten with zeros and synced before it is unlinked
// (scrub.go), so its content does not stay in the file system's free
// blocks. Holding blobMu keeps WriteBlob from reviving a file between the
// check and the removal.
func (s *Store) removeUnreferenced(hashes []string, scrub bool) int64 {
	if len(hashes) == 0 {
		return 0
	}
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	if s.hold.n > 0 { // a backup is copying its snapshot's blobs
		s.hold.deferred = append(s.hold.deferred, hashes...)
		return 0
	}
	var freed int64
	_ = s.db.View(func(tx *bolt.Tx) error {
		refs := tx.Bucket(bucketBlobRefs)
		for _, h := range hashes {
			if !validHash(h) || s.blobPending[h] > 0 || refs.Get([]byte(h)) != nil {
				continue // a sequenced key has no file (contentkey.go)
			}
			p := s.blobPath(h)
			fi, err := os.Stat(p)
			if err != nil {
				continue // inline content, or already gone
			}
			if scrub {
				_ = zeroFile(p, fi.Size())
			}
			if os.Remove(p) == nil {
				freed += fi.Size()
			}
		}
		return nil
	})
	return freed
}

// sweepBlobs empties blobs/tmp and removes blobs without references (left
// by a crash between blob write and commit). It runs before serving starts.
func (s *Store) sweepBlobs() error {
	tmpDir := filepath.Join(s.dir, "blobs", "tmp")
	entries, err := os.ReadDir(tmpDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		os.Remove(filepath.Join(tmpDir, e.Name()))
	}
	return s.db.View(func(tx *bolt.Tx) error {
		refs := tx.Bucket(bucketBlobRefs)
		return s.walkBlobs(func(path, hash string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !validHash(hash) || refs.Get([]byte(hash)) == nil {
				return os.Remove(path)
			}
			return nil
		})
	})
}

// walkBlobs calls fn for every file under blobs/ but blobs/tmp, with the
// hash its path names (blobPath backwards), or with the walk's error.
func (s *Store) walkBlobs(fn func(path, hash string, d fs.DirEntry, err error) error) error {
	root := filepath.Join(s.dir, "blobs")
	tmpDir := filepath.Join(root, "tmp")
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fn(path, "", d, err)
		}
		if d.IsDir() {
			if path == tmpDir {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		return fn(path, strings.ReplaceAll(rel, string(filepath.Separator), ""), d, nil)
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// BlobCount returns how many blobs have references (for tests and stats).
func (s *Store) BlobCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketBlobRefs).Stats().KeyN
		return nil
	})
	return n, err
}
