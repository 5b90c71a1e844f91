package store

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// An account deleted between RCPT and DATA gets nothing, not even fresh
// mailboxes; the others get the message.
func TestDeliverSkipsDeletedAccount(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	mkAccount(t, s, "ben")
	if err := s.DeleteAccount("ben"); err != nil {
		t.Fatal(err)
	}
	got := deliver(t, s, "Subject: hi\r\n\r\nx\r\n", "anna", "ben")
	if len(got) != 1 || got[0].Account != "anna" {
		t.Fatalf("delivered %+v", got)
	}
	if _, err := s.MailboxByName("ben", Inbox); err == nil {
		t.Fatal("a deleted account got an INBOX")
	}
	if got := deliver(t, s, "Subject: hi\r\n\r\nx\r\n", "ben"); len(got) != 0 {
		t.Fatalf("only a deleted recipient: %+v", got)
	}
	if n, _ := s.BlobCount(); n != 1 {
		t.Fatalf("%d blobs referenced, want 1", n)
	}
}

// Parallel senders: exactly max reservations succeed; a released one is
// given back; delivered ones survive a restart and leave after the window.
func TestReserveSendAtomicAndPersistent(t *testing.T) {
	dir := t.TempDir()
	s := openMailTest(t, dir)
	mkAccount(t, s, "anna")
	now := time.Now()
	const max = 10
	var ok atomic.Int32
	var mu sync.Mutex
	var slots []*SendSlot
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sl, _, granted, err := s.ReserveSend("anna", now, time.Hour, max)
			if err != nil {
				t.Error(err)
			}
			if granted {
				ok.Add(1)
				mu.Lock()
				slots = append(slots, sl)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok.Load() != max {
		t.Fatalf("%d reservations granted, want %d", ok.Load(), max)
	}
	// half fail (released unrecorded), half deliver
	for i, sl := range slots {
		if i%2 == 0 {
			sl.Release()
			continue
		}
		pb, err := s.WriteBlob(strings.NewReader("Subject: x\r\n\r\ny\r\n"), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Deliver(Delivery{NewMessage: NewMessage{Blob: pb}, Recipients: []string{"anna"}, Sent: sl}); err != nil {
			t.Fatal(err)
		}
		pb.Release()
		sl.Release()
	}
	if _, used, _, _ := s.ReserveSend("anna", now, time.Hour, 1000); used != max/2 {
		t.Fatalf("used %d after releases, want %d", used, max/2)
	}
	s.Close()

	s = openMailTest(t, dir)
	defer s.Close()
	if _, used, granted, _ := s.ReserveSend("anna", now.Add(time.Minute), time.Hour, max/2); granted || used != max/2 {
		t.Fatalf("after restart: used %d granted %v, want %d refused", used, granted, max/2)
	}
	if _, used, granted, _ := s.ReserveSend("anna", now.Add(61*time.Minute), time.Hour, max/2); !granted || used != 0 {
		t.Fatalf("an hour later: used %d granted %v", used, granted)
	}
	if sl, _, granted, _ := s.ReserveSend("anna", now, time.Hour, 0); sl != nil || !granted {
		t.Fatal("no limit must not count")
	}
}
