package store

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openMailTest(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mkAccount(t *testing.T, s *Store, name string) {
	t.Helper()
	if _, err := s.CreateAccount(Account{First: name, Last: "x", Role: "student"}, func(int) string { return name }); err != nil {
		t.Fatal(err)
	}
}

func deliver(t *testing.T, s *Store, body string, to ...string) []Delivered {
	t.Helper()
	pb, err := s.WriteBlob(strings.NewReader(body), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	out, err := s.Deliver(Delivery{NewMessage: NewMessage{Blob: pb, Meta: []byte(`{"x":1}`)}, Recipients: to})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMailDeliverSharedBlobAndReopen(t *testing.T) {
	dir := t.TempDir()
	s := openMailTest(t, dir)
	mkAccount(t, s, "anna")
	mkAccount(t, s, "ben")
	sub := s.Feed().Subscribe(16, func(e Event) bool { return e.Kind == MailChanged })
	got := deliver(t, s, "Subject: hi\r\n\r\nhello\r\n", "anna", "ben", "anna")
	if len(got) != 2 || got[0].UID != 1 || got[1].UID != 1 {
		t.Fatalf("delivered %+v", got)
	}
	if n, _ := s.BlobCount(); n != 1 {
		t.Fatalf("blobs %d, want 1 shared", n)
	}
	for i := 0; i < 2; i++ {
		select {
		case e := <-sub.C:
			ch := e.Data.(MailChange)
			if len(ch.Appended) != 1 || ch.Appended[0].UID != 1 {
				t.Fatalf("event %+v", ch)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
	}
	deliver(t, s, "Subject: two\r\n\r\nsecond\r\n", "anna")
	s.Close()

	s = openMailTest(t, dir)
	defer s.Close()
	boxes, err := s.Mailboxes("anna")
	if err != nil || len(boxes) != len(DefaultMailboxes) {
		t.Fatalf("mailboxes %v %v", boxes, err)
	}
	inbox, _ := s.MailboxByName("anna", Inbox)
	if inbox.Messages != 2 || inbox.UIDNext != 3 {
		t.Fatalf("inbox %+v", inbox)
	}
	s.View(func(tx *Tx) error {
		m, err := tx.Message(inbox.ID, 1)
		if err != nil || string(tx.MessageMeta(m.Blob)) != `{"x":1}` {
			t.Fatalf("message %+v meta %q %v", m, tx.MessageMeta(m.Blob), err)
		}
		return nil
	})
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func TestMailFlagsExpungeUIDsNeverReused(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	deliver(t, s, "a\r\n\r\n1", "anna")
	deliver(t, s, "a\r\n\r\n2", "anna")
	inbox, _ := s.MailboxByName("anna", Inbox)
	ch, err := s.StoreFlags(inbox.ID, []uint32{1, 2, 9}, FlagsAdd, []string{`\Seen`, "$Label1"}, nil)
	if err != nil || len(ch) != 2 {
		t.Fatalf("%v %v", ch, err)
	}
	ch, _ = s.StoreFlags(inbox.ID, []uint32{1}, FlagsAdd, []string{`\Seen`}, nil)
	if len(ch) != 0 {
		t.Fatal("no-op store reported a change")
	}
	s.StoreFlags(inbox.ID, []uint32{1}, FlagsRemove, []string{"$Label1"}, nil)
	gone, err := s.Expunge(inbox.ID, []uint32{2}, nil)
	if err != nil || len(gone) != 1 {
		t.Fatal(gone, err)
	}
	// the last message is gone: its UID must not come back
	d := deliver(t, s, "a\r\n\r\n3", "anna")
	if d[0].UID != 3 {
		t.Fatalf("uid reused: %d", d[0].UID)
	}
	s.View(func(tx *Tx) error {
		m, _ := tx.Message(inbox.ID, 1)
		if len(m.Flags) != 1 || m.Flags[0] != `\Seen` {
			t.Fatalf("flags %v", m.Flags)
		}
		uids, modseq, _ := tx.UIDs(inbox.ID)
		if len(uids) != 2 || uids[1] != 3 {
			t.Fatal(uids)
		}
		x, _ := tx.ExpungedSince(inbox.ID, 0)
		if len(x) != 1 || x[0] != 2 || modseq < 5 {
			t.Fatal(x, modseq)
		}
		return nil
	})
	if n, _ := s.BlobCount(); n != 2 {
		t.Fatalf("blobs %d after expunge", n)
	}
}

func TestMailboxLifecycle(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	m1, err := s.CreateMailbox("anna", "Projekte", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMailbox("anna", "Projekte/Bio", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMailbox("anna", "Projekte", ""); !errors.Is(err, ErrMailboxExists) {
		t.Fatal(err)
	}
	if err := s.RenameMailbox("anna", "Projekte", "Schule"); err != nil {
		t.Fatal(err)
	}
	r, err := s.MailboxByName("anna", "Schule")
	if err != nil || r.ID != m1.ID || r.UIDValidity != m1.UIDValidity {
		t.Fatal(r, err)
	}
	if _, err := s.MailboxByName("anna", "Schule/Bio"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMailbox("anna", "Schule"); err != nil {
		t.Fatal(err)
	}
	again, _ := s.CreateMailbox("anna", "Schule", "")
	if again.UIDValidity == r.UIDValidity {
		t.Fatal("UIDVALIDITY repeated after delete and create")
	}
	if err := s.DeleteMailbox("anna", "inbox"); !errors.Is(err, ErrInboxProtected) {
		t.Fatal(err)
	}
	// RENAME INBOX moves its messages and leaves it empty
	deliver(t, s, "x\r\n\r\ny", "anna")
	if err := s.RenameMailbox("anna", "INBOX", "Alt"); err != nil {
		t.Fatal(err)
	}
	inbox, _ := s.MailboxByName("anna", Inbox)
	alt, err := s.MailboxByName("anna", "Alt")
	if err != nil || alt.Messages != 1 || inbox.Messages != 0 {
		t.Fatalf("rename INBOX: %+v %+v %v", inbox, alt, err)
	}
	deliver(t, s, "x\r\n\r\ny", "anna")
	if err := s.DeleteAccount("anna"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.BlobCount(); n != 0 {
		t.Fatalf("blobs left: %d", n)
	}
	s.View(func(tx *Tx) error {
		if bs, _ := tx.Mailboxes("anna"); len(bs) != 0 {
			t.Fatal(bs)
		}
		return nil
	})
}

func TestMailConcurrentDeliveries(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			pb, err := s.WriteBlob(strings.NewReader(strings.Repeat("x", i)), -1)
			if err != nil {
				t.Error(err)
				return
			}
			defer pb.Release()
			if _, err := s.Deliver(Delivery{NewMessage: NewMessage{Blob: pb}, Recipients: []string{"anna"}}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	inbox, _ := s.MailboxByName("anna", Inbox)
	if inbox.Messages != 40 || inbox.UIDNext != 41 {
		t.Fatalf("%+v", inbox)
	}
}

func TestMailCopyMove(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	deliver(t, s, "a\r\n\r\n1", "anna")
	inbox, _ := s.MailboxByName("anna", Inbox)
	s.StoreFlags(inbox.ID, []uint32{1}, FlagsAdd, []string{`\Flagged`}, nil)
	res, err := s.CopyMessages(inbox.ID, []uint32{1}, "anna", "Archive", true, nil)
	if err != nil || len(res.Dest) != 1 {
		t.Fatal(res, err)
	}
	arch, _ := s.MailboxByName("anna", "Archive")
	inbox, _ = s.MailboxByName("anna", Inbox)
	if arch.Messages != 1 || inbox.Messages != 0 {
		t.Fatal(arch, inbox)
	}
	s.View(func(tx *Tx) error {
		m, err := tx.Message(arch.ID, res.Dest[0])
		if err != nil || !m.HasFlag(`\Flagged`) || tx.MessageMeta(m.Blob) == nil {
			t.Fatal(m, err)
		}
		return nil
	})
}

// BenchmarkDeliverParallel: concurrent durable deliveries sharing fsyncs
// through db.Batch (each includes its own fsynced blob).
func BenchmarkDeliverParallel(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateAccount(Account{First: "a", Last: "b"}, func(int) string { return "anna" }); err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf("Subject: %d\r\n\r\n%s", n.Add(1), strings.Repeat("x", 4000))
			blob, err := s.WriteBlob(strings.NewReader(body), -1)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Deliver(Delivery{NewMessage: NewMessage{Blob: blob}, Recipients: []string{"anna"}}); err != nil {
				b.Error(err)
			}
			blob.Release()
		}
	})
}
