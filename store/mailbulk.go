package store

import (
	"encoding/binary"
	"fmt"
)

// AppendMessages stores many messages into one mailbox in the caller's
// transaction (bulk fills: benchmarks, imports from other servers), with
// the same bookkeeping as Append. The blobs must be written; the caller
// releases them after the commit.
func (t *Tx) AppendMessages(account, mailbox string, msgs []NewMessage) ([]uint32, error) {
	if err := t.ensureMailboxes(account); err != nil {
		return nil, err
	}
	m, err := t.MailboxByName(account, mailbox)
	if err != nil {
		return nil, err
	}
	return t.appendMessages(m, msgs, nil)
}

// recordsOf calls fn with the position in uids, the UID and the raw
// record of each of the given messages that exists, in UID order, with
// one cursor walk instead of a lookup per UID: FETCH and SEARCH over a
// whole mailbox read its records in key order. uids must be ascending;
// v is valid only during the transaction.
func (t *Tx) recordsOf(mbox uint64, uids []uint32, fn func(i int, uid uint32, v []byte) error) error {
	if len(uids) == 0 {
		return nil
	}
	c := t.bucket(bucketMailMsgs).Cursor()
	prefix := mboxKey(mbox)
	k, v := c.Seek(msgKey(mbox, uids[0]))
	for i, uid := range uids {
		// Step forward while close; seek when the wanted UID is further.
		for steps := 0; k != nil && hasPrefix(k, prefix) && binary.BigEndian.Uint32(k[8:]) < uid; steps++ {
			if steps == 8 {
				k, v = c.Seek(msgKey(mbox, uid))
				break
			}
			k, v = c.Next()
		}
		if k == nil || !hasPrefix(k, prefix) {
			return nil
		}
		if binary.BigEndian.Uint32(k[8:]) != uid {
			continue // expunged
		}
		if err := fn(i, uid, v); err != nil {
			return err
		}
	}
	return nil
}

// MessagesOf calls fn for each of the given messages that exists, in UID
// order (recordsOf). uids must be ascending.
func (t *Tx) MessagesOf(mbox uint64, uids []uint32, fn func(m *Message) error) error {
	return t.recordsOf(mbox, uids, func(_ int, uid uint32, v []byte) error {
		var m Message
		if err := decodeMessage(v, &m); err != nil {
			return fmt.Errorf("message %d/%d: %w", mbox, uid, err)
		}
		return fn(&m)
	})
}

// FlagsOf is MessagesOf for callers that need only UIDs and flags (SEARCH
// UNSEEN, FLAGGED …): records are not fully decoded and the flags slice
// is reused between calls, so fn must not keep it.
func (t *Tx) FlagsOf(mbox uint64, uids []uint32, fn func(uid uint32, flags []string)) error {
	return t.FlagsModSeqOf(mbox, uids, func(uid uint32, _ uint64, flags []string) { fn(uid, flags) })
}

// FlagsModSeqOf is FlagsOf with each message's MODSEQ (FETCH FLAGS of a
// whole mailbox, with CONDSTORE).
func (t *Tx) FlagsModSeqOf(mbox uint64, uids []uint32, fn func(uid uint32, modseq uint64, flags []string)) error {
	var buf []string
	return t.recordsOf(mbox, uids, func(_ int, uid uint32, v []byte) error {
		var modseq uint64
		var err error
		if buf, modseq, err = decodeFlagsModSeq(v, buf[:0]); err != nil {
			return fmt.Errorf("message %d/%d: %w", mbox, uid, err)
		}
		fn(uid, modseq, buf)
		return nil
	})
}
