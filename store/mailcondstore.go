package store

import (
	"encoding/binary"
	"errors"
	"slices"
)

// StoreFlagsUnchangedSince is StoreFlags for STORE (UNCHANGEDSINCE n)
// (RFC 7162 section 3.1.3): in the same transaction, messages whose MODSEQ
// is above unchangedSince are left alone and returned in modified; the
// others get StoreFlags. The check and the change cannot be separated by
// another session's commit.
func (s *Store) StoreFlagsUnchangedSince(mbox uint64, uids []uint32, unchangedSince uint64, op FlagOp, flags []string, origin any) (changed []Message, modified []uint32, err error) {
	err = s.batch(func(t *Tx) error {
		changed, modified = nil, nil // a batch may run its function again
		var pass []uint32
		for _, uid := range uids {
			m, err := t.Message(mbox, uid)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if m.ModSeq > unchangedSince {
				modified = append(modified, uid)
			} else {
				pass = append(pass, uid)
			}
		}
		if len(pass) == 0 {
			return nil
		}
		var err error
		changed, err = t.StoreFlags(mbox, pass, op, flags, origin)
		return err
	})
	return changed, modified, err
}

// bucketMailAppends: mailbox ID (8) MODSEQ (8) → first UID (4) of the
// messages appended at that MODSEQ. A client that last synchronised at
// MODSEQ m never knew UIDs from the first append after m on, so SELECT
// (QRESYNC) leaves their expunges out of VANISHED (EARLIER) (RFC 7162
// section 3.2.5.1: clients such as imaptest rely on it). Kept as long as
// the mailbox, like the expunge tombstones.
var bucketMailAppends = []byte("mailappends")

func init() { buckets = append(buckets, bucketMailAppends) }

func (t *Tx) noteAppend(mbox, modseq uint64, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	return t.bucket(bucketMailAppends).Put(append(mboxKey(mbox), u64(modseq)...), binary.BigEndian.AppendUint32(nil, uids[0]))
}

// ExpungedKnownAt lists the UIDs expunged after modseq that existed at
// modseq: ExpungedSince without the messages both appended and expunged
// since. Mailboxes older than the appends record answer like
// ExpungedSince for the appends they did not record.
func (t *Tx) ExpungedKnownAt(mbox, modseq uint64) ([]uint32, error) {
	gone, err := t.ExpungedSince(mbox, modseq)
	if err != nil || len(gone) == 0 {
		return gone, err
	}
	prefix := mboxKey(mbox)
	k, v := t.bucket(bucketMailAppends).Cursor().Seek(append(mboxKey(mbox), u64(modseq+1)...))
	if k == nil || string(k[:8]) != string(prefix) {
		return gone, nil // nothing appended since
	}
	first := binary.BigEndian.Uint32(v)
	return slices.DeleteFunc(gone, func(uid uint32) bool { return uid >= first }), nil
}
