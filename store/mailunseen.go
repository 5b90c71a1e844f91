package store

// SEARCH UNSEEN without reading every message: per mailbox, the UIDs of
// its messages without \Seen, kept in the transaction of every change
// that keeps the Unseen count (mailcounts.go), so a large mailbox with
// few unseen messages answers with a cursor walk over those few keys.
//
//	mailunseen  mailbox ID (8) UID (4 BE) → empty
//
// Mailboxes created before this index have Mailbox.UnseenIndex false:
// writes leave the index alone, readers scan the messages, and
// IndexUnseen builds it once (imapd calls it on the first SEARCH UNSEEN).

import (
	"encoding/binary"
	"slices"
)

var bucketMailUnseen = []byte("mailunseen")

func init() { buckets = append(buckets, bucketMailUnseen) }

func unseen(flags []string) bool { return !slices.Contains(flags, `\Seen`) }

// countMessage adds (delta 1) or removes (-1) message uid with these
// flags (sorted) to m's counters and unseen index; the caller stores m.
func (t *Tx) countMessage(m *Mailbox, uid uint32, flags []string, delta int) error {
	m.count(flags, delta)
	if !m.UnseenIndex || !unseen(flags) {
		return nil
	}
	if delta > 0 {
		return t.bucket(bucketMailUnseen).Put(msgKey(m.ID, uid), []byte{})
	}
	return t.bucket(bucketMailUnseen).Delete(msgKey(m.ID, uid))
}

// reflagMessage is countMessage for a flag change from old to nf; the
// index is touched only when \Seen changes.
func (t *Tx) reflagMessage(m *Mailbox, uid uint32, old, nf []string) error {
	m.count(old, -1)
	m.count(nf, 1)
	if !m.UnseenIndex || unseen(old) == unseen(nf) {
		return nil
	}
	if unseen(nf) {
		return t.bucket(bucketMailUnseen).Put(msgKey(m.ID, uid), []byte{})
	}
	return t.bucket(bucketMailUnseen).Delete(msgKey(m.ID, uid))
}

// UnseenUIDs returns the UIDs of mbox's messages without \Seen, in
// order, and the mailbox's HighestModSeq in this snapshot; ok is false
// when the mailbox has no index yet (the caller scans or calls
// IndexUnseen).
func (t *Tx) UnseenUIDs(mbox uint64) (uids []uint32, modseq uint64, ok bool, err error) {
	m, err := t.Mailbox(mbox)
	if err != nil || !m.UnseenIndex {
		return nil, 0, false, err
	}
	if m.Counted {
		uids = make([]uint32, 0, m.Unseen)
	}
	prefix := mboxKey(mbox)
	c := t.bucket(bucketMailUnseen).Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		uids = append(uids, binary.BigEndian.Uint32(k[8:]))
	}
	return uids, m.HighestModSeq, true, nil
}

// IndexUnseen builds the unseen index of a mailbox older than it, in one
// write transaction; nothing to do when it has one.
func (s *Store) IndexUnseen(mbox uint64) error {
	return s.update(func(t *Tx) error {
		m, err := t.Mailbox(mbox)
		if err != nil || m.UnseenIndex {
			return err
		}
		if _, err := t.deletePrefix(bucketMailUnseen, mboxKey(mbox), int(^uint(0)>>1)); err != nil {
			return err
		}
		b := t.bucket(bucketMailUnseen)
		var buf []string
		err = t.recordsOfAll(mbox, func(uid uint32, v []byte) error {
			var err error
			if buf, _, err = decodeFlagsModSeq(v, buf[:0]); err != nil {
				return err
			}
			if unseen(buf) {
				return b.Put(msgKey(mbox, uid), []byte{})
			}
			return nil
		})
		if err != nil {
			return err
		}
		m.UnseenIndex = true
		return t.putMailbox(m)
	})
}

// recordsOfAll calls fn with the UID and raw record of every message of
// mbox in UID order; v is valid only during the transaction.
func (t *Tx) recordsOfAll(mbox uint64, fn func(uid uint32, v []byte) error) error {
	prefix := mboxKey(mbox)
	c := t.bucket(bucketMailMsgs).Cursor()
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(binary.BigEndian.Uint32(k[8:]), v); err != nil {
			return err
		}
	}
	return nil
}
