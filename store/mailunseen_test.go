package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// scanUnseen is what the unseen index must say: a scan of the records.
func scanUnseen(t *testing.T, s *Store, id uint64) []uint32 {
	t.Helper()
	var out []uint32
	err := s.View(func(tx *Tx) error {
		return tx.ForEachMessage(id, func(m *Message) error {
			if !m.HasFlag(`\Seen`) {
				out = append(out, m.UID)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkUnseen compares the index of every mailbox of account with a
// scan. Without an index are the mailboxes that never had
// s.unseenFrom messages, and noIndex (left as an older version did).
func checkUnseen(t *testing.T, s *Store, account string, step string, noIndex uint64) {
	t.Helper()
	boxes, err := s.Mailboxes(account)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range boxes {
		var u *Unseen
		if err := s.View(func(tx *Tx) error {
			var err error
			u, err = tx.UnseenUIDs(m.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if u.ModSeq != m.HighestModSeq {
			t.Fatalf("%s: %s: MODSEQ %d, mailbox says %d", step, m.Name, u.ModSeq, m.HighestModSeq)
		}
		if !u.Indexed {
			if u.UIDs != nil || u.Wanted != (m.Messages >= s.unseenFrom) || m.ID != noIndex && m.Messages >= s.unseenFrom {
				t.Fatalf("%s: %s (%d messages) without an index: %+v", step, m.Name, m.Messages, u)
			}
			continue
		}
		if want := scanUnseen(t, s, m.ID); u.Wanted || !slices.Equal(u.UIDs, want) {
			t.Fatalf("%s: %s index %+v, records say %v", step, m.Name, u, want)
		}
	}
	// No entry of a mailbox that is gone, nor of a message that is.
	err = s.View(func(tx *Tx) error {
		return tx.bucket(bucketMailUnseen).ForEach(func(k, _ []byte) error {
			if tx.bucket(bucketMailMsgs).Get(k) == nil {
				return fmt.Errorf("%s: index entry %x without a message", step, k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// forgetUnseenIndex leaves mailbox id as a version from before the
// unseen index did: no entries, and the flag cleared.
func forgetUnseenIndex(t *testing.T, s *Store, id uint64) {
	t.Helper()
	err := s.Update(func(tx *Tx) error {
		mb, err := tx.Mailbox(id)
		if err != nil {
			return err
		}
		mb.UnseenIndex = false
		if _, err := tx.deletePrefix(bucketMailUnseen, mboxKey(id), 1<<30); err != nil {
			return err
		}
		return tx.putMailbox(mb)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A random sequence of every kind of mail write keeps each mailbox's
// unseen index equal to a scan of its messages from the append that
// brought it to the size for one; a mailbox without the index (older than
// it) is left alone by the writes and built by IndexUnseen.
func TestUnseenIndexFollowsEveryChange(t *testing.T) {
	s, err := Open(t.TempDir(), Options{UnseenIndexFrom: 4}) // most mailboxes get there
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mkAccount(t, s, "anna")
	mkAccount(t, s, "ben")
	rng := rand.New(rand.NewPCG(12, 100000))
	names := []string{Inbox, "Archive", "Trash", "Projekt", "Projekt/Alt"}
	flagSets := [][]string{{`\Seen`}, {`\Seen`, `\Deleted`}, {`\Deleted`}, {"$Label1"}, {`\Seen`, "$Label1"}, {`\Answered`}, nil}
	box := func() *Mailbox {
		boxes, err := s.Mailboxes("anna")
		if err != nil {
			t.Fatal(err)
		}
		m := boxes[rng.IntN(len(boxes))]
		return &m
	}
	someUIDs := func(m *Mailbox) []uint32 {
		var uids []uint32
		for u := uint32(1); u <= m.UIDNext+1; u++ {
			if rng.IntN(3) == 0 {
				uids = append(uids, u)
			}
		}
		return uids
	}
	var noIndex uint64 // a mailbox as an older version left it
	built := 0
	for step := range 400 {
		var what string
		var err error
		switch op := rng.IntN(12); op {
		case 0, 1:
			what = "deliver"
			deliver(t, s, fmt.Sprintf("Subject: m%d\r\n\r\nbody\r\n", step), "anna", "ben")
		case 2:
			m := box()
			what = "append to " + m.Name
			var pb *PendingBlob
			if pb, err = s.WriteBlob(strings.NewReader(fmt.Sprintf("Subject: a%d\r\n\r\nx\r\n", step)), -1); err == nil {
				_, err = s.Append("anna", m.Name, NewMessage{Blob: pb, Flags: flagSets[rng.IntN(len(flagSets))]}, nil)
				pb.Release()
			}
		case 3, 4, 5:
			m := box()
			o := FlagOp(rng.IntN(3))
			fl := flagSets[rng.IntN(len(flagSets))]
			what = fmt.Sprintf("store %d %v in %s", o, fl, m.Name)
			_, err = s.StoreFlags(m.ID, someUIDs(m), o, fl, nil)
		case 6:
			m := box()
			what = "expunge in " + m.Name
			_, err = s.Expunge(m.ID, someUIDs(m), nil)
		case 7, 8:
			m, to := box(), box()
			move := rng.IntN(2) == 0
			what = fmt.Sprintf("copy (move %v) %s to %s", move, m.Name, to.Name)
			_, err = s.CopyMessages(m.ID, someUIDs(m), "anna", to.Name, move, nil)
		case 9:
			name := names[rng.IntN(len(names))]
			what = "create or delete " + name
			if _, e := s.MailboxByName("anna", name); e != nil {
				_, err = s.CreateMailbox("anna", name, "")
			} else if name != Inbox {
				err = s.DeleteMailbox("anna", name)
			}
		case 10:
			what = "rename"
			if rng.IntN(2) == 0 {
				// RENAME INBOX: its messages move to a new mailbox
				to := fmt.Sprintf("Alt%d", step)
				what += " INBOX to " + to
				err = s.RenameMailbox("anna", Inbox, to)
			} else if _, e := s.MailboxByName("anna", "Projekt"); e == nil {
				what += " Projekt"
				if err = s.RenameMailbox("anna", "Projekt", "Projekt2"); err == nil {
					err = s.RenameMailbox("anna", "Projekt2", "Projekt")
				}
			}
		case 11:
			if noIndex == 0 {
				m := box()
				what = "forget the index of " + m.Name
				forgetUnseenIndex(t, s, m.ID)
				noIndex = m.ID
			} else {
				what = "build the index"
				if err = s.IndexUnseen(noIndex); err == nil {
					if m := mailboxByID(t, s, noIndex); m != nil && m.UnseenIndex {
						built++
					}
				} else if errors.Is(err, ErrMailboxNotFound) {
					err = nil // deleted meanwhile
				}
				noIndex = 0
			}
		}
		if err != nil {
			t.Fatalf("step %d (%s): %v", step, what, err)
		}
		checkUnseen(t, s, "anna", fmt.Sprintf("step %d (%s)", step, what), noIndex)
		checkUnseen(t, s, "ben", fmt.Sprintf("step %d (%s)", step, what), 0)
	}
	if noIndex != 0 {
		if err := s.IndexUnseen(noIndex); err != nil && !errors.Is(err, ErrMailboxNotFound) {
			t.Fatal(err)
		}
		checkUnseen(t, s, "anna", "last build", 0)
	}
	// The run reached the cases that matter.
	var entries int
	s.View(func(tx *Tx) error { entries = tx.bucket(bucketMailUnseen).Stats().KeyN; return nil })
	if entries == 0 || built == 0 {
		t.Fatalf("%d unseen index entries left, %d builds by IndexUnseen: the run tested too little", entries, built)
	}
}

// mailboxByID is the mailbox record, nil when it is gone.
func mailboxByID(t *testing.T, s *Store, id uint64) *Mailbox {
	t.Helper()
	var m *Mailbox
	err := s.View(func(tx *Tx) error {
		var err error
		m, err = tx.Mailbox(id)
		return err
	})
	if err != nil && !errors.Is(err, ErrMailboxNotFound) {
		t.Fatal(err)
	}
	return m
}

func unseenKeys(t *testing.T, s *Store, id uint64) int64 {
	t.Helper()
	var n int64
	s.View(func(tx *Tx) error { n = tx.countKeys(bucketMailUnseen, mboxKey(id)); return nil })
	return n
}

// A small mailbox has no index and a delivery to it writes none; the
// append that brings it to the size builds it, also in the middle of a
// bulk append, and from then on it is kept.
func TestUnseenIndexFromSize(t *testing.T) {
	s, err := Open(t.TempDir(), Options{UnseenIndexFrom: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mkAccount(t, s, "anna")
	bulk := func(flags ...[]string) {
		t.Helper()
		var msgs []NewMessage
		for i, f := range flags {
			pb, err := s.WriteBlob(strings.NewReader(fmt.Sprintf("Subject: b%d %v\r\n\r\nx\r\n", i, f)), -1)
			if err != nil {
				t.Fatal(err)
			}
			defer pb.Release()
			msgs = append(msgs, NewMessage{Blob: pb, Flags: f})
		}
		if err := s.Update(func(tx *Tx) error { _, err := tx.AppendMessages("anna", Inbox, msgs); return err }); err != nil {
			t.Fatal(err)
		}
	}
	seen := []string{`\Seen`}
	bulk(nil, seen)
	deliver(t, s, "Subject: drei\r\n\r\nx\r\n", "anna")
	m, _ := s.MailboxByName("anna", Inbox)
	if m.UnseenIndex || unseenKeys(t, s, m.ID) != 0 {
		t.Fatalf("a mailbox of %d messages has an index (%d keys)", m.Messages, unseenKeys(t, s, m.ID))
	}
	if err := s.IndexUnseen(m.ID); err != nil {
		t.Fatal(err)
	}
	checkUnseen(t, s, "anna", "small", 0) // IndexUnseen left it alone
	if m = mailboxByID(t, s, m.ID); m.UnseenIndex {
		t.Fatal("IndexUnseen indexed a small mailbox")
	}
	bulk(seen, nil, nil, seen) // the 5th message is the second of these
	if m = mailboxByID(t, s, m.ID); !m.UnseenIndex {
		t.Fatalf("no index at %d messages", m.Messages)
	}
	checkUnseen(t, s, "anna", "after the bulk append", 0)
	if got := scanUnseen(t, s, m.ID); !slices.Equal(got, []uint32{1, 3, 5, 6}) {
		t.Fatalf("unseen %v", got)
	}
	deliver(t, s, "Subject: acht\r\n\r\nx\r\n", "anna")
	checkUnseen(t, s, "anna", "after a delivery", 0)
	// A copy brings another mailbox to the size; its deletion takes the
	// index along.
	if _, err := s.CreateMailbox("anna", "Projekt", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyMessages(m.ID, []uint32{1, 2, 3, 4, 5, 6, 7, 8}, "anna", "Projekt", false, nil); err != nil {
		t.Fatal(err)
	}
	checkUnseen(t, s, "anna", "after the copy", 0)
	p, _ := s.MailboxByName("anna", "Projekt")
	if n := unseenKeys(t, s, p.ID); !p.UnseenIndex || n != 5 {
		t.Fatalf("copy: indexed %v, %d keys", p.UnseenIndex, n)
	}
	if err := s.DeleteMailbox("anna", "Projekt"); err != nil {
		t.Fatal(err)
	}
	if n := unseenKeys(t, s, p.ID); n != 0 {
		t.Fatalf("%d unseen index keys of a deleted mailbox", n)
	}
}

// A mailbox from before the index: writes leave it without one (so no
// half index is ever read), IndexUnseen builds it from the messages, and
// from then on it is kept.
func TestUnseenIndexOfOldMailbox(t *testing.T) {
	s, err := Open(t.TempDir(), Options{UnseenIndexFrom: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mkAccount(t, s, "anna")
	for range 5 {
		deliver(t, s, "Subject: x\r\n\r\nbody\r\n", "anna")
	}
	m, _ := s.MailboxByName("anna", Inbox)
	if _, err := s.StoreFlags(m.ID, []uint32{2, 4}, FlagsAdd, []string{`\Seen`}, nil); err != nil {
		t.Fatal(err)
	}
	forgetUnseenIndex(t, s, m.ID)
	deliver(t, s, "Subject: neu\r\n\r\nbody\r\n", "anna")
	if _, err := s.StoreFlags(m.ID, []uint32{1}, FlagsAdd, []string{`\Seen`}, nil); err != nil {
		t.Fatal(err)
	}
	checkUnseen(t, s, "anna", "before the build", m.ID)
	if n := unseenKeys(t, s, m.ID); n != 0 {
		t.Fatalf("writes to a mailbox without the index left %d entries", n)
	}
	for range 2 { // the second call finds it built
		if err := s.IndexUnseen(m.ID); err != nil {
			t.Fatal(err)
		}
		checkUnseen(t, s, "anna", "after the build", 0)
	}
	if got := scanUnseen(t, s, m.ID); !slices.Equal(got, []uint32{3, 5, 6}) {
		t.Fatalf("unseen %v", got)
	}
	if _, err := s.Expunge(m.ID, []uint32{3}, nil); err != nil {
		t.Fatal(err)
	}
	checkUnseen(t, s, "anna", "after an expunge", 0)
}
