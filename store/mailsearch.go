package store

// Header search without opening messages: for every blob in mailmeta the
// fields SEARCH matches (From, To, Cc, Bcc, Subject, Message-ID, Date, …)
// decoded and lower-cased (internal/mailmsg.SearchIndex), kept and dropped
// with the blob's mailmeta entry. Blobs stored before schema 4 are indexed
// by the migration.
//
//	mailsearch  content key (contentkey.go) → the header index (mailmsg's encoding)

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"

	"schulhof/internal/mailmsg"
)

var bucketMailSearch = []byte("mailsearch")

func init() { buckets = append(buckets, bucketMailSearch) }

// prepareSearch computes a new message's header index before its
// transaction, so the shared commit does not wait for the parsing.
func (s *Store) prepareSearch(nm *NewMessage) {
	if nm.Search == nil && nm.Blob != nil {
		nm.Search = s.searchIndexOf(nm.Blob)
	}
}

func (s *Store) searchIndexOf(pb *PendingBlob) []byte {
	if pb.Data != nil {
		return mailmsg.SearchIndex(bytes.NewReader(pb.Data))
	}
	f, err := s.OpenContent(pb.Hash)
	if err != nil {
		return nil // indexed lazily never: SEARCH falls back to the blob
	}
	defer f.Close()
	return mailmsg.SearchIndex(f)
}

// putSearch stores a new blob's header index under its content key.
func (t *Tx) putSearch(nm NewMessage, key string) error {
	idx := nm.Search
	if idx == nil && nm.Blob != nil {
		// Read within this transaction (a second one from the same
		// goroutine could wait on this one's remap).
		if nm.Blob.Data != nil {
			idx = mailmsg.SearchIndex(bytes.NewReader(nm.Blob.Data))
		} else if v := t.bucket(bucketFileInline).Get([]byte(nm.Blob.Hash)); v != nil {
			idx = mailmsg.SearchIndex(bytes.NewReader(v))
		} else if validHash(nm.Blob.Hash) {
			if f, err := t.s.openBlobFile(nm.Blob.Hash); err == nil {
				idx = mailmsg.SearchIndex(f)
				f.Close()
			}
		}
	}
	if idx == nil {
		return nil
	}
	return t.bucket(bucketMailSearch).Put([]byte(key), idx)
}

// SearchIndex returns a blob's header index; ok is false for a blob not
// indexed (SEARCH then reads the message). The bytes are valid only
// during the transaction.
func (t *Tx) SearchIndex(hash string) (idx []byte, ok bool) {
	v := t.bucket(bucketMailSearch).Get([]byte(hash))
	return v, v != nil
}

// migrateMailSearch indexes the headers of every stored message blob.
func migrateMailSearch(tx *bolt.Tx) error {
	s := &Store{dir: filepath.Dir(tx.DB().Path())} // for the blob paths
	meta := tx.Bucket(bucketMailMeta)
	idx, err := tx.CreateBucketIfNotExists(bucketMailSearch)
	if meta == nil || err != nil {
		return err
	}
	var hashes [][]byte
	meta.ForEach(func(k, _ []byte) error {
		hashes = append(hashes, append([]byte(nil), k...))
		return nil
	})
	for _, h := range hashes {
		var ix []byte
		if v := getIn(tx, bucketFileInline, h); v != nil {
			ix = mailmsg.SearchIndex(bytes.NewReader(v))
		} else if validHash(string(h)) {
			f, err := s.openBlobFile(string(h))
			if err != nil {
				continue // content missing: check-blobs reports it
			}
			ix = mailmsg.SearchIndex(f)
			f.Close()
		} else {
			continue
		}
		if err := idx.Put(h, ix); err != nil {
			return err
		}
	}
	return nil
}

func getIn(tx *bolt.Tx, bucket, k []byte) []byte {
	if b := tx.Bucket(bucket); b != nil {
		return b.Get(k)
	}
	return nil
}

// SearchIndexes calls fn with the header index of each of the given
// blobs that has one; hashes must be sorted and unique. Dense sets (a
// whole large mailbox) step through the bucket instead of one lookup
// each. The bucket is keyed by hash, so one account's blobs lie far
// apart among every other account's: once a few steps did not reach the
// next hash the set is sparse, and each further hash is one lookup, not
// steps over other accounts' pages first. idx is valid only during the
// transaction.
func (t *Tx) SearchIndexes(hashes []string, fn func(hash string, idx []byte)) {
	ic := t.indexCursor()
	for _, h := range hashes {
		if v, ok := ic.find([]byte(h)); ok {
			fn(h, v)
		} else if ic.k == nil {
			return // past the last index
		}
	}
}

// indexCursor finds ascending keys in the header index: it steps while
// the next key is near and, once a few walks missed (the set is sparse,
// see SearchIndexes), looks each key up instead.
type indexCursor struct {
	t      *Tx
	c      *bolt.Cursor
	k, v   []byte
	seeked bool
	misses int // walks that ended in a lookup
}

func (t *Tx) indexCursor() *indexCursor {
	return &indexCursor{t: t, c: t.bucket(bucketMailSearch).Cursor()}
}

// find returns the index stored under key; keys must come in ascending
// order. The value is valid only during the transaction.
func (ic *indexCursor) find(key []byte) ([]byte, bool) {
	if !ic.seeked || ic.k != nil && bytes.Compare(ic.k, key) < 0 && ic.misses >= sparseAfter {
		ic.k, ic.v = ic.c.Seek(key)
		ic.seeked = true
	}
	for steps := 0; ic.k != nil && bytes.Compare(ic.k, key) < 0; steps++ {
		if steps == 8 {
			ic.k, ic.v = ic.c.Seek(key)
			ic.misses++
			break
		}
		ic.k, ic.v = ic.c.Next()
		ic.t.steps++
	}
	if ic.k != nil && bytes.Equal(ic.k, key) {
		return ic.v, true
	}
	return nil, false
}

// sparseAfter walks that miss make SearchIndexes look each hash up.
const sparseAfter = 2

// HeaderIndexesOf calls fn for each message of uids (sorted) in mbox
// with its position in uids and its blob's header index (ok false for a
// blob without one). The calls come in the index's order, not in UID order, so
// that a whole large mailbox is one pass over each bucket; idx is valid
// only during the transaction. Nothing is copied per message.
func (t *Tx) HeaderIndexesOf(mbox uint64, uids []uint32, fn func(i int, idx []byte, ok bool)) error {
	if len(uids) == 0 {
		return nil
	}
	// raw is the key's raw form: a SHA-256, or for a sequenced key
	// (seq set) its sequence number then the SHA-256.
	type ref struct {
		raw [40]byte
		seq bool
		i   int32
	}
	refs := make([]ref, 0, len(uids))
	err := t.recordsOf(mbox, uids, func(i int, uid uint32, v []byte) error {
		r := ref{i: int32(i)}
		switch msgFixed(v) {
		case msgFixedLen:
			copy(r.raw[:], v[1+32:1+64])
		case msgFixedLenV2:
			copy(r.raw[:], v[1+32:1+72])
			r.seq = true
		default:
			var m Message
			if err := decodeMessage(v, &m); err != nil {
				return fmt.Errorf("message %d/%d: %w", mbox, uid, err)
			}
			if raw, ok := seqKeyRaw(m.Blob); ok {
				copy(r.raw[:], raw)
				r.seq = true
			} else if h, err := hex.DecodeString(m.Blob); err == nil && len(h) == 32 {
				copy(r.raw[:], h)
			}
		}
		refs = append(refs, r)
		return nil
	})
	if err != nil {
		return err
	}
	// In the bucket's order: lower-case hex keeps the order of the raw
	// bytes, and sequenced keys ("s…") come after every hex key.
	slices.SortFunc(refs, func(a, b ref) int {
		if a.seq != b.seq {
			if a.seq {
				return 1
			}
			return -1
		}
		if x, y := binary.BigEndian.Uint64(a.raw[:]), binary.BigEndian.Uint64(b.raw[:]); x != y {
			return cmp.Compare(x, y)
		}
		return bytes.Compare(a.raw[:], b.raw[:])
	})
	ic := t.indexCursor()
	var key [seqKeyLen]byte
	for _, r := range refs {
		k := key[:64]
		if r.seq {
			copy(key[:], seqKeyPrefix)
			hex.Encode(key[len(seqKeyPrefix):], r.raw[:])
			k = key[:]
		} else {
			hex.Encode(k, r.raw[:32])
		}
		idx, ok := ic.find(k)
		fn(int(r.i), idx, ok)
	}
	return nil
}
