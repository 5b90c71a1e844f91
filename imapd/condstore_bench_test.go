package imapd

import (
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// BenchmarkIMAPResync: a client that comes back to a 2,000-message INBOX
// in which 10 messages changed, with and without CONDSTORE:
//
//	go test -run '^$' -bench IMAPResync -benchtime 200x ./imapd
func BenchmarkIMAPResync(b *testing.B) {
	const n, changed = 2000, 10
	e := newEnv(b, "Bench Nutzer")
	for i := range n {
		e.deliver(b, fmt.Sprintf("From: a@schule.test\r\nSubject: %d\r\n\r\nx\r\n", i), "bench.nutzer")
	}
	c := e.login(b, "bench.nutzer@schule.test", nil)
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		b.Fatal(err)
	}
	for i := range changed {
		if err := c.Store(imap.UIDSetNum(imap.UID(i*100+1)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
			Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
			b.Fatal(err)
		}
	}
	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	for _, bc := range []struct {
		name string
		opts *imap.FetchOptions
		want int
	}{
		{"all-flags", &imap.FetchOptions{Flags: true}, n},
		{"changedsince", &imap.FetchOptions{Flags: true, ChangedSince: sel.HighestModSeq}, changed},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				msgs, err := c.Fetch(all, bc.opts).Collect()
				if err != nil || len(msgs) != bc.want {
					b.Fatalf("%d messages, want %d (%v)", len(msgs), bc.want, err)
				}
			}
		})
	}
}
