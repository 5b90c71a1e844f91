package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func limitOf(err error) (Limit, int64) {
	var le *LimitError
	if errors.As(err, &le) {
		return le.Limit, le.N
	}
	return "", 0
}

func inbox(t *testing.T, s *Store, account string) *Mailbox {
	t.Helper()
	m, err := s.MailboxByName(account, Inbox)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Distinct keywords per mailbox are bounded at STORE and APPEND; case
// variants are one keyword, system flags none, and a keyword once used
// keeps counting.
func TestMailKeywordBounds(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	s.SetMailLimits(MailLimits{KeywordsPerMailbox: 3, KeywordBytes: 10})
	for range 2 {
		deliver(t, s, "Subject: x\r\n\r\nx\r\n", "anna")
	}
	m := inbox(t, s, "anna")
	ok := func(op FlagOp, flags ...string) {
		t.Helper()
		if _, err := s.StoreFlags(m.ID, []uint32{1, 2}, op, flags, nil); err != nil {
			t.Fatalf("%v %v: %v", op, flags, err)
		}
	}
	ok(FlagsAdd, "$Label1", `\Seen`, `\Flagged`)
	ok(FlagsAdd, "$label1", "Work")
	ok(FlagsSet, "Done", `\Seen`)
	ok(FlagsRemove, "Done")
	_, err := s.StoreFlags(m.ID, []uint32{1}, FlagsAdd, []string{"Fourth"}, nil)
	if l, n := limitOf(err); l != LimitKeywordsPerMailbox || n != 4 {
		t.Fatalf("fourth keyword: %v", err)
	}
	ok(FlagsAdd, "WORK", "done") // known ones, any case
	_, err = s.StoreFlags(m.ID, []uint32{1}, FlagsAdd, []string{"ElevenBytes"}, nil)
	if l, n := limitOf(err); l != LimitKeywordBytes || n != 11 {
		t.Fatalf("long keyword: %v", err)
	}
	pb, err := s.WriteBlob(strings.NewReader("Subject: y\r\n\r\ny\r\n"), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	_, err = s.Append("anna", Inbox, NewMessage{Blob: pb, Flags: []string{"Another"}}, nil)
	if l, _ := limitOf(err); l != LimitKeywordsPerMailbox {
		t.Fatalf("APPEND with a new keyword: %v", err)
	}
	if m := inbox(t, s, "anna"); m.Messages != 2 {
		t.Fatalf("refused APPEND stored a message: %d", m.Messages)
	}
	if _, err := s.Append("anna", Inbox, NewMessage{Blob: pb, Flags: []string{"work"}}, nil); err != nil {
		t.Fatal(err)
	}
	// Other mailboxes have their own count.
	if _, err := s.Append("anna", "Sent", NewMessage{Blob: pb, Flags: []string{"A", "B", "C"}}, nil); err != nil {
		t.Fatal(err)
	}
	var kws []string
	s.View(func(tx *Tx) error { kws, err = tx.Keywords(m.ID); return err })
	if fmt.Sprint(kws) != "[Done $Label1 Work]" && fmt.Sprint(kws) != "[$Label1 Done Work]" {
		t.Fatalf("keywords %v", kws)
	}
}

// The bound holds when many sessions add keywords at once: the check is
// inside the write transaction.
func TestMailKeywordBoundConcurrent(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	s.SetMailLimits(MailLimits{KeywordsPerMailbox: 5})
	deliver(t, s, "Subject: x\r\n\r\nx\r\n", "anna")
	m := inbox(t, s, "anna")
	var okN, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.StoreFlags(m.ID, []uint32{1}, FlagsAdd, []string{fmt.Sprintf("kw%d", i)}, nil)
			switch l, _ := limitOf(err); {
			case err == nil:
				okN.Add(1)
			case l == LimitKeywordsPerMailbox:
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if okN.Load() != 5 || refused.Load() != 15 {
		t.Fatalf("%d stored, %d refused; want 5 and 15", okN.Load(), refused.Load())
	}
}

// A mailbox from before the keyword index counts the keywords its
// messages carry.
func TestMailKeywordIndexOfOldMailbox(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	deliver(t, s, "Subject: x\r\n\r\nx\r\n", "anna")
	m := inbox(t, s, "anna")
	if _, err := s.StoreFlags(m.ID, []uint32{1}, FlagsAdd, []string{"A", "B"}, nil); err != nil {
		t.Fatal(err)
	}
	forgetKeywordIndex(t, s, m.ID)
	s.SetMailLimits(MailLimits{KeywordsPerMailbox: 2})
	_, err := s.StoreFlags(m.ID, []uint32{1}, FlagsAdd, []string{"C"}, nil)
	if l, n := limitOf(err); l != LimitKeywordsPerMailbox || n != 3 {
		t.Fatalf("third keyword in an old mailbox: %v", err)
	}
}

// Mailboxes per account and name length are bounded at CREATE and RENAME,
// also under concurrent creates; a refused RENAME renames nothing.
func TestMailMailboxBounds(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	if err := s.EnsureMailboxes("anna"); err != nil {
		t.Fatal(err)
	}
	n := int64(len(DefaultMailboxes))
	s.SetMailLimits(MailLimits{MailboxesPerAccount: n + 2, MailboxNameBytes: 12})
	var okN atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.CreateMailbox("anna", fmt.Sprintf("box%d", i), "")
			if l, _ := limitOf(err); err == nil {
				okN.Add(1)
			} else if l != LimitMailboxesPerAccount {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if okN.Load() != 2 {
		t.Fatalf("%d mailboxes created, want 2", okN.Load())
	}
	if err := s.RenameMailbox("anna", Inbox, "Old"); err == nil {
		t.Fatal("RENAME INBOX made a mailbox over the bound")
	} else if l, _ := limitOf(err); l != LimitMailboxesPerAccount {
		t.Fatal(err)
	}
	s.SetMailLimits(MailLimits{MailboxNameBytes: 12})
	if _, err := s.CreateMailbox("anna", "thirteen-byte", ""); err == nil {
		t.Fatal("long name created")
	} else if l, n := limitOf(err); l != LimitMailboxNameBytes || n != 13 {
		t.Fatal(err)
	}
	for _, name := range []string{"P", "P/child"} {
		if _, err := s.CreateMailbox("anna", name, ""); err != nil {
			t.Fatal(err)
		}
	}
	// The child would become "ParentXX/child" (14 bytes).
	if err := s.RenameMailbox("anna", "P", "ParentXX"); err == nil {
		t.Fatal("RENAME made a child's name too long")
	} else if l, n := limitOf(err); l != LimitMailboxNameBytes || n != 14 {
		t.Fatal(err)
	}
	if _, err := s.MailboxByName("anna", "P/child"); err != nil {
		t.Fatalf("refused RENAME changed names: %v", err)
	}
}

// A mailbox from before the keyword index keeps a keyword in its list
// when STORE -FLAGS or EXPUNGE takes its last occurrence: the index is
// filled first.
func TestMailKeywordListOfOldMailboxKeepsRemoved(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	deliver(t, s, "Subject: x\r\n\r\nx\r\n", "anna")
	deliver(t, s, "Subject: y\r\n\r\ny\r\n", "anna")
	m := inbox(t, s, "anna")
	if _, err := s.StoreFlags(m.ID, []uint32{1}, FlagsAdd, []string{"A"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StoreFlags(m.ID, []uint32{2}, FlagsAdd, []string{"B"}, nil); err != nil {
		t.Fatal(err)
	}
	forgetKeywordIndex(t, s, m.ID)
	if _, err := s.StoreFlags(m.ID, []uint32{1}, FlagsRemove, []string{"A"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expunge(m.ID, []uint32{2}, nil); err != nil {
		t.Fatal(err)
	}
	var kw []string
	if err := s.View(func(tx *Tx) error {
		var err error
		kw, err = tx.Keywords(m.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kw, []string{"A", "B"}) {
		t.Fatalf("keywords after -FLAGS and EXPUNGE: %q", kw)
	}
}

// forgetKeywordIndex leaves mailbox id as a version from before the
// keyword index did: no index, and the flag cleared.
func forgetKeywordIndex(t *testing.T, s *Store, id uint64) {
	t.Helper()
	err := s.Update(func(tx *Tx) error {
		mb, err := tx.Mailbox(id)
		if err != nil {
			return err
		}
		mb.KeywordIndex = false
		if err := tx.deleteKeywords(id); err != nil {
			return err
		}
		return tx.putMailbox(mb)
	})
	if err != nil {
		t.Fatal(err)
	}
}
