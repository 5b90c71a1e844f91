package store

// Small file contents are kept inline in bbolt instead of in blob files:
// one fsync'ed bbolt commit then makes a small PUT durable, where a blob
// file needs its own fsync and its folder's before the commit. Inline
// content is content-addressed like blobs and shares their reference
// counts (blobrefs), so COPY and MOVE stay metadata operations, the quota
// counts it like any content, and it is deleted in the transaction that
// drops its last reference.
//
// Bucket:
//
//	fileinline  content key (contentkey.go) → the content (at most InlineMax bytes)
//
// Privacy: deleting inline content deletes its value in the same
// transaction that drops its last reference, and bbolt hands the freed
// pages to the next writes. bbolt does not zero freed pages, so until they
// are reused the bytes can still be found in the raw file, as for every
// other value bbolt held (names, subjects, flags). An erasure therefore
// ends with a scrub that overwrites every free page (scrub.go); an
// ordinary delete by the user does not.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	bolt "go.etcd.io/bbolt"
)

// InlineMax is the largest content kept inline in the database.
const InlineMax = 16 << 10

var bucketFileInline = []byte("fileinline")

func init() { buckets = append(buckets, bucketFileInline) }

// WriteContent is WriteBlob for file contents: content of at most
// InlineMax bytes stays in memory (PendingBlob.Data) and is stored inline
// by the FilePut that references it; larger content streams into a blob
// file.
func (s *Store) WriteContent(r io.Reader, max int64) (*PendingBlob, error) {
	head := make([]byte, 0, 4096)
	buf := bytes.NewBuffer(head)
	n, err := io.Copy(buf, io.LimitReader(r, InlineMax+1))
	if err != nil {
		return nil, err
	}
	if max >= 0 && n > max {
		return nil, ErrTooLarge
	}
	if n > InlineMax {
		return s.WriteBlob(io.MultiReader(bytes.NewReader(buf.Bytes()), r), max)
	}
	return s.InlineContent(buf.Bytes()), nil
}

// InlineContent is WriteContent for content already in memory, of at most
// InlineMax bytes: it keeps data itself (no copy), which the caller must
// not change afterwards.
func (s *Store) InlineContent(data []byte) *PendingBlob {
	if data == nil {
		data = []byte{}
	}
	sum := sha256.Sum256(data)
	return &PendingBlob{Blob: Blob{Hash: hex.EncodeToString(sum[:]), Size: int64(len(data))}, Data: data, s: s, released: true}
}

func (t *Tx) putInline(hash string, data []byte) error {
	return t.bucket(bucketFileInline).Put([]byte(hash), data)
}

// OpenContent opens a file's content for reading (inline or blob file).
func (s *Store) OpenContent(hash string) (io.ReadSeekCloser, error) {
	if !validKey(hash) {
		return nil, fmt.Errorf("invalid blob hash %q", hash)
	}
	var data []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketFileInline).Get([]byte(hash)); v != nil {
			data = bytes.Clone(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if data != nil {
		return inlineReader{bytes.NewReader(data)}, nil
	}
	if !validHash(hash) { // a sequenced key's content is only ever inline
		return nil, fmt.Errorf("content %s: %w", hash, ErrNotFound)
	}
	return s.openBlobFile(hash)
}

// openBlobFile opens a blob file; a missing one is ErrNotFound.
func (s *Store) openBlobFile(hash string) (io.ReadSeekCloser, error) {
	f, err := os.Open(s.blobPath(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("content %s: %w", hash, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// FileOpen returns the file at p and its content from one snapshot: a
// file that another request removes or replaces at the same moment is
// either read whole (an open blob file stays readable after it is
// removed; inline content is copied) or ErrNotFound, never a raw error.
func (s *Store) FileOpen(tr Tree, p string) (*FileEntry, io.ReadSeekCloser, error) {
	// blobMu keeps removeUnreferenced from deleting the blob file between
	// the lookup and the open.
	s.blobMu.Lock()
	defer s.blobMu.Unlock()
	var e *FileEntry
	var content io.ReadSeekCloser
	err := s.view(func(t *Tx) error {
		x, err := t.resolve(tr, p)
		if err != nil {
			return err
		}
		if x.Dir {
			return ErrIsDir
		}
		if e, err = t.withProps(x); err != nil {
			return err
		}
		if v := t.bucket(bucketFileInline).Get([]byte(e.Hash)); v != nil {
			content = inlineReader{bytes.NewReader(bytes.Clone(v))}
			return nil
		}
		content, err = s.openBlobFile(e.Hash)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return e, content, nil
}

type inlineReader struct{ *bytes.Reader }

func (inlineReader) Close() error { return nil }
