package store

// SEARCH UNSEEN without reading every message of a large mailbox: the
// UIDs of its messages without \Seen, kept in the transaction of every
// change that keeps the Unseen count (mailcounts.go), so the answer is a
// cursor walk over those keys.
//
//	mailunseen  mailbox ID (8) UID (4 BE) → empty
//
// Only mailboxes that reached Options.UnseenIndexFrom messages keep it
// (Mailbox.UnseenIndex): the append that reaches the size builds it from
// the messages, and a delivery to a smaller mailbox writes no page more.
// A mailbox already larger when the index came is built by IndexUnseen
// (imapd calls it on the first SEARCH UNSEEN); until then, and in small
// mailboxes, readers scan the flags.

import (
	"encoding/binary"
	"slices"
)

var bucketMailUnseen = []byte("mailunseen")

func init() { buckets = append(buckets, bucketMailUnseen) }

// DefaultUnseenIndexFrom: below this many messages a scan of the flags
// takes about as long as the walk over the index.
const DefaultUnseenIndexFrom = 1000

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

// Unseen is what UnseenUIDs found.
type Unseen struct {
	UIDs   []uint32 // ascending; valid when Indexed
	ModSeq uint64   // the mailbox's HighestModSeq in the same snapshot
	// Indexed is false for a mailbox without the index: the caller scans
	// the flags, after IndexUnseen when Wanted (a large mailbox).
	Indexed, Wanted bool
}

// UnseenUIDs reads the unseen index of mbox.
func (t *Tx) UnseenUIDs(mbox uint64) (*Unseen, error) {
	m, err := t.Mailbox(mbox)
	if err != nil {
		return nil, err
	}
	u := &Unseen{ModSeq: m.HighestModSeq, Indexed: m.UnseenIndex}
	b := t.bucket(bucketMailUnseen)
	if !m.UnseenIndex || b == nil { // nil: a read-only open of an older file
		u.Indexed, u.Wanted = false, b != nil && m.Messages >= t.s.unseenFrom
		return u, nil
	}
	if m.Counted {
		u.UIDs = make([]uint32, 0, m.Unseen)
	}
	prefix := mboxKey(mbox)
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		u.UIDs = append(u.UIDs, binary.BigEndian.Uint32(k[8:]))
	}
	return u, nil
}

// IndexUnseen builds the unseen index of a mailbox that has reached the
// size for one but was larger already when the index came, in one write
// transaction; nothing to do for any other.
func (s *Store) IndexUnseen(mbox uint64) error {
	return s.update(func(t *Tx) error {
		m, err := t.Mailbox(mbox)
		if err != nil || m.UnseenIndex || m.Messages < s.unseenFrom {
			return err
		}
		if err := t.buildUnseen(m); err != nil {
			return err
		}
		return t.putMailbox(m)
	})
}

// buildUnseen fills m's index from its messages and marks m indexed; the
// caller stores m.
func (t *Tx) buildUnseen(m *Mailbox) error {
	if _, err := t.deletePrefix(bucketMailUnseen, mboxKey(m.ID), int(^uint(0)>>1)); err != nil {
		return err
	}
	b := t.bucket(bucketMailUnseen)
	prefix := mboxKey(m.ID)
	c := t.bucket(bucketMailMsgs).Cursor()
	var buf []string
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		var err error
		if buf, _, err = decodeFlagsModSeq(v, buf[:0]); err != nil {
			return err
		}
		if unseen(buf) {
			if err := b.Put(msgKey(m.ID, binary.BigEndian.Uint32(k[8:])), []byte{}); err != nil {
				return err
			}
		}
	}
	m.UnseenIndex = true
	return nil
}
