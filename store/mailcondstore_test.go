package store

import (
	"slices"
	"testing"
)

// STORE (UNCHANGEDSINCE): messages changed after the given MODSEQ are left
// alone and named; the others change in the same transaction.
func TestStoreFlagsUnchangedSince(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	for i := 0; i < 3; i++ {
		deliver(t, s, "Subject: x\r\n\r\nx\r\n", "anna")
	}
	inbox, err := s.MailboxByName("anna", "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	since := inbox.HighestModSeq
	if _, err := s.StoreFlags(inbox.ID, []uint32{2}, FlagsAdd, []string{"$Work"}, nil); err != nil {
		t.Fatal(err)
	}
	changed, modified, err := s.StoreFlagsUnchangedSince(inbox.ID, []uint32{1, 2, 3, 9}, since, FlagsAdd, []string{`\Seen`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(modified, []uint32{2}) {
		t.Errorf("modified %v, want [2]", modified)
	}
	if len(changed) != 2 || changed[0].UID != 1 || changed[1].UID != 3 || changed[0].ModSeq <= since+1 {
		t.Errorf("changed %+v", changed)
	}
	err = s.View(func(tx *Tx) error {
		m, err := tx.Message(inbox.ID, 2)
		if err == nil && m.HasFlag(`\Seen`) {
			t.Errorf("message 2 got \\Seen: %v", m.Flags)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// VANISHED (EARLIER) for a client in sync at some MODSEQ: expunges since,
// without the messages appended after it; tombstones stay until the
// mailbox goes.
func TestExpungedKnownAt(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	for i := 0; i < 3; i++ {
		deliver(t, s, "Subject: x\r\n\r\nx\r\n", "anna")
	}
	inbox, _ := s.MailboxByName("anna", "INBOX")
	synced := inbox.HighestModSeq                    // the client knows UIDs 1-3
	deliver(t, s, "Subject: y\r\n\r\ny\r\n", "anna") // UID 4, never seen
	if _, err := s.Expunge(inbox.ID, []uint32{2, 4}, nil); err != nil {
		t.Fatal(err)
	}
	var known, all []uint32
	err := s.View(func(tx *Tx) error {
		var err error
		if known, err = tx.ExpungedKnownAt(inbox.ID, synced); err != nil {
			return err
		}
		all, err = tx.ExpungedSince(inbox.ID, synced)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(known, []uint32{2}) || !slices.Equal(all, []uint32{2, 4}) {
		t.Errorf("known at %d: %v, all since: %v", synced, known, all)
	}
	// In sync after the expunge: nothing vanished since.
	cur, _ := s.MailboxByName("anna", "INBOX")
	err = s.View(func(tx *Tx) error {
		gone, err := tx.ExpungedKnownAt(inbox.ID, cur.HighestModSeq)
		if len(gone) != 0 {
			t.Errorf("vanished since the current MODSEQ: %v", gone)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
