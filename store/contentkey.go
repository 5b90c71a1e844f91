package store

// Content keys name stored content in fileinline, blobrefs, mailmeta and
// mailsearch. Blob files and file contents are content-addressed: the key
// is the SHA-256 in lower-case hex, so equal contents share one copy.
//
// Inline mail (a delivered or appended message of at most InlineMax
// bytes) is keyed by a sequence number instead: "s", 16 hex digits of
// mailmeta's sequence, then the SHA-256. Every delivery then writes those
// four trees at their right edge, where the previous deliveries' pages
// already are, instead of at one random leaf per tree. With millions of
// messages the random leaves no longer fit the page cache, and delivery
// latency grew with the size of the school (issue 12). The price: the
// same bytes delivered twice are stored twice. The recipients of one
// delivery, COPY, MOVE and RENAME INBOX still share one copy.
//
// A sequenced key never names a blob file: its content is always inline.

import (
	"encoding/binary"
	"encoding/hex"
	"strings"

	bolt "go.etcd.io/bbolt"
)

const (
	appendFill   = 0.9
	seqKeyPrefix = "s"
	seqKeyLen    = len(seqKeyPrefix) + 16 + 64
)

// seqKey is the key of the seq'th inline message with that SHA-256.
func seqKey(seq uint64, hash string) string {
	raw := binary.BigEndian.AppendUint64(make([]byte, 0, 40), seq)
	h, _ := hex.DecodeString(hash)
	return seqKeyOf(append(raw, h...))
}

// seqKeyOf is the key of raw: the sequence (8 BE) then the SHA-256 (32).
// Keys sort as their raw forms do.
func seqKeyOf(raw []byte) string {
	var b [seqKeyLen]byte
	copy(b[:], seqKeyPrefix)
	hex.Encode(b[len(seqKeyPrefix):], raw)
	return string(b[:])
}

// seqKeyRaw is seqKeyOf backwards; ok is false for any other key.
func seqKeyRaw(k string) (raw []byte, ok bool) {
	if !isSeqKey(k) {
		return nil, false
	}
	raw, err := hex.DecodeString(k[len(seqKeyPrefix):])
	return raw, err == nil
}

// isSeqKey reports whether k is a well-formed sequenced key.
func isSeqKey(k string) bool {
	if len(k) != seqKeyLen || !strings.HasPrefix(k, seqKeyPrefix) {
		return false
	}
	for _, c := range k[len(seqKeyPrefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validKey reports whether k is a content key of either kind.
func validKey(k string) bool { return validHash(k) || isSeqKey(k) }

// keyHash is the SHA-256 a content key carries (the key itself for a
// content-addressed one).
func keyHash(k string) string {
	if isSeqKey(k) {
		return k[seqKeyLen-64:]
	}
	return k
}

// addMailInline stores a pending blob's in-memory content inline under a
// new sequenced key and returns the key; the same pending blob gets the
// same key for the rest of the transaction (every recipient of one
// delivery). A blob file keeps its hash as its key.
func (t *Tx) addMailInline(pb *PendingBlob) (string, error) {
	if pb.Data == nil {
		return pb.Hash, nil
	}
	if k, ok := t.keys[pb]; ok {
		return k, nil
	}
	seq, err := t.bucket(bucketMailMeta).NextSequence()
	if err != nil {
		return "", err
	}
	k := seqKey(seq, pb.Hash)
	// Keys only ever grow here: pack the pages (bbolt's default of half
	// full pages suits random inserts, not appends).
	for _, name := range [][]byte{bucketFileInline, bucketBlobRefs, bucketMailMeta, bucketMailSearch} {
		t.bucket(name).FillPercent = appendFill
	}
	if t.keys == nil {
		t.keys = map[*PendingBlob]string{}
	}
	t.keys[pb] = k
	return k, t.putInline(k, pb.Data)
}

// Schema 5 is the first that writes sequenced keys (message records of
// codec version 2). Nothing is converted: content-addressed keys stay
// valid. The step only makes an older program refuse the store
// (ErrNewerSchema) instead of failing on records it cannot read.
func init() { registerMigration(4, func(*bolt.Tx) error { return nil }) }
