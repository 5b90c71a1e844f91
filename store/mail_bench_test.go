package store

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkStoreFlags toggles \Seen on messages of one mailbox per
// goroutine, as IMAP clients of different accounts do at once. Every call
// is durable when it returns, so this measures commits: alone, and how
// many of them 10 concurrent callers share.
func BenchmarkStoreFlags(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchStoreFlags(b, 0) })
	b.Run("parallel10", func(b *testing.B) { benchStoreFlags(b, 5) })
}

// benchStoreFlags runs parallelism×GOMAXPROCS goroutines (0: just one).
func benchStoreFlags(b *testing.B, parallelism int) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	sub := s.Feed().Subscribe(1<<20, nil) // a subscriber that keeps up
	go func() {
		for range sub.C {
		}
	}()
	const accounts = 10
	var boxes []uint64
	for i := range accounts {
		name := fmt.Sprintf("user%d", i)
		if _, err := s.CreateAccount(Account{First: name, Last: "x", Role: "student"}, func(int) string { return name }); err != nil {
			b.Fatal(err)
		}
		pb, err := s.WriteBlob(strings.NewReader("Subject: x\r\n\r\nhello\r\n"), -1)
		if err != nil {
			b.Fatal(err)
		}
		err = s.Update(func(t *Tx) error {
			if err := t.ensureMailboxes(name); err != nil {
				return err
			}
			m, err := t.MailboxByName(name, Inbox)
			if err != nil {
				return err
			}
			msgs := make([]NewMessage, 200)
			for i := range msgs {
				msgs[i] = NewMessage{Blob: pb}
			}
			boxes = append(boxes, m.ID)
			_, err = t.appendMessages(m, msgs, nil)
			return err
		})
		pb.Release()
		if err != nil {
			b.Fatal(err)
		}
	}
	var started atomic.Int64
	run := func(more func() bool) {
		box := boxes[int(started.Add(1)-1)%len(boxes)]
		for i := 0; more(); i++ {
			op := FlagsAdd
			if i%2 == 1 {
				op = FlagsRemove
			}
			if _, err := s.StoreFlags(box, []uint32{uint32(i/2%200 + 1)}, op, []string{`\Seen`}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	}
	b.ResetTimer()
	if parallelism == 0 {
		n := 0
		run(func() bool { n++; return n <= b.N })
		return
	}
	b.SetParallelism(parallelism)
	b.RunParallel(func(pb *testing.PB) { run(pb.Next) })
}
