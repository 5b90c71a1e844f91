package e2e

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/imapd"
	"schulhof/policy"
	"schulhof/store"
)

// BenchmarkIMAPMix: each iteration is one client round of a realistic
// mix (SELECT, FETCH envelopes of 50, FETCH one body, STORE a flag,
// SEARCH body text, NOOP) against a 200-message INBOX; 8 clients.
func BenchmarkIMAPMix(b *testing.B) {
	e := startMailB(b, mailOpts{})
	anna := e.user(b, "Anna", "Schmidt", policy.Student)
	for i := 0; i < 200; i++ {
		benchDeliver(b, e.st, anna, i)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := imapclient.DialInsecure(e.imapAddr, nil)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		if err := c.Login(anna, pw).Wait(); err != nil {
			b.Error(err)
			return
		}
		var first50 imap.SeqSet
		first50.AddRange(1, 50)
		for i := 0; pb.Next(); i++ {
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				b.Error(err)
				return
			}
			c.Fetch(first50, &imap.FetchOptions{Envelope: true, Flags: true, UID: true, RFC822Size: true}).Collect()
			c.Fetch(imap.SeqSetNum(uint32(i%200+1)), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			c.Store(imap.SeqSetNum(uint32(i%200+1)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, Silent: true}, nil).Close()
			c.UIDSearch(&imap.SearchCriteria{Body: []string{"Wandertag"}}, nil).Wait()
			c.Noop().Wait()
		}
	})
}

func benchDeliver(b *testing.B, st *store.Store, to string, i int) {
	msg := "From: x@schule.test\r\nSubject: Nachricht " + strings.Repeat("x", i%7) + "\r\n\r\n" + strings.Repeat("Morgen ist Wandertag. ", 50) + "\r\n"
	pb, err := st.WriteBlob(strings.NewReader(msg), -1)
	if err != nil {
		b.Fatal(err)
	}
	defer pb.Release()
	meta, err := imapd.Summarize(st, pb.Hash)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Deliver(store.Delivery{NewMessage: store.NewMessage{Blob: pb, Meta: meta}, Recipients: []string{to}}); err != nil {
		b.Fatal(err)
	}
}
