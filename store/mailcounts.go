package store

// STATUS (UNSEEN DELETED) and SELECT's first unseen message without a
// scan: each mailbox record counts its unseen and deleted messages, and
// every append, flag change and expunge adjusts the counts in its own
// transaction. Mailboxes from before schema 4 are counted once by the
// migration.

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// count adds delta times a message with these flags (sorted) to the
// counters.
func (m *Mailbox) count(flags []string, delta int) {
	seen, deleted := false, false
	for _, f := range flags {
		switch f {
		case `\Seen`:
			seen = true
		case `\Deleted`:
			deleted = true
		}
	}
	if !seen {
		m.Unseen = uint32(int(m.Unseen) + delta)
	}
	if deleted {
		m.Deleted = uint32(int(m.Deleted) + delta)
	}
}

// migrateMailCounts counts every mailbox's unseen and deleted messages.
func migrateMailCounts(tx *bolt.Tx) error {
	boxes := tx.Bucket(bucketMailboxes)
	msgs := tx.Bucket(bucketMailMsgs)
	if boxes == nil || msgs == nil {
		return nil
	}
	type upd struct {
		k []byte
		v []byte
	}
	var out []upd
	err := boxes.ForEach(func(k, v []byte) error {
		var m Mailbox
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("mailbox %x: %w", k, err)
		}
		m.Unseen, m.Deleted, m.Counted = 0, 0, true
		c := msgs.Cursor()
		prefix := mboxKey(m.ID)
		for mk, mv := c.Seek(prefix); mk != nil && hasPrefix(mk, prefix); mk, mv = c.Next() {
			var msg Message
			if err := decodeMessage(mv, &msg); err != nil {
				return fmt.Errorf("message %x: %w", mk, err)
			}
			m.count(msg.Flags, 1)
		}
		nv, err := json.Marshal(&m)
		out = append(out, upd{append([]byte(nil), k...), nv})
		return err
	})
	if err != nil {
		return err
	}
	for _, u := range out {
		if err := boxes.Put(u.k, u.v); err != nil {
			return err
		}
	}
	return nil
}

// Schema 4: mailbox counts and the header search index (mailsearch.go).
func init() {
	registerMigration(3, func(tx *bolt.Tx) error {
		if err := migrateMailCounts(tx); err != nil {
			return err
		}
		return migrateMailSearch(tx)
	})
}
