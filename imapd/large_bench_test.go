package imapd

import (
	"bytes"
	"testing"

	"github.com/emersion/go-imap/v2"

	"schulhof/internal/bench"
	"schulhof/internal/mailmsg"
	"schulhof/store"
)

// A large INBOX (20,000 generated messages, half unseen, stored through
// the store) read the way a resyncing client does: FETCH 1:* (FLAGS),
// SEARCH UNSEEN, a header SEARCH without match.
func BenchmarkIMAPLargeMailbox(b *testing.B) {
	const n = 20000
	e := newEnv(b, "Bench Nutzer")
	var msgs []store.NewMessage
	for i := range n {
		raw := bench.GenMessage(1, i, "bench.nutzer@schule.test", 1024, 4096)
		pb, err := e.st.WriteContent(bytes.NewReader(raw), -1)
		if err != nil {
			b.Fatal(err)
		}
		sum, _ := mailmsg.Parse(bytes.NewReader(raw))
		meta, _ := mailmsg.Marshal(sum)
		var flags []string
		if bench.GenSeen(i) {
			flags = []string{`\Seen`}
		}
		msgs = append(msgs, store.NewMessage{Blob: pb, Meta: meta, Flags: flags, Internal: bench.GenDate(i)})
	}
	if err := e.st.Update(func(t *store.Tx) error { _, err := t.AppendMessages("bench.nutzer", store.Inbox, msgs); return err }); err != nil {
		b.Fatal(err)
	}
	c := e.login(b, "bench.nutzer", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	b.Run("fetch-flags", func(b *testing.B) {
		for b.Loop() {
			if got, err := c.Fetch(all, &imap.FetchOptions{Flags: true, UID: true}).Collect(); err != nil || len(got) != n {
				b.Fatal(len(got), err)
			}
		}
	})
	b.Run("search-unseen", func(b *testing.B) {
		for b.Loop() {
			if d, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait(); err != nil || len(d.AllUIDs()) != n/2 {
				b.Fatal(err)
			}
		}
	})
	b.Run("search-subject", func(b *testing.B) {
		for b.Loop() {
			crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "zzqx"}}}
			if d, err := c.UIDSearch(crit, nil).Wait(); err != nil || len(d.AllUIDs()) != 0 {
				b.Fatal(err)
			}
		}
	})
}

// UID SEARCH UNSEEN on a 100,000-message INBOX (half unseen, every other
// message, as internal/bench fills it), from the unseen index and from
// the scan it replaces, interleaved in one session:
//
//	go test -run XXX -bench IMAPSearchUnseen100k -benchtime 20x ./imapd
func BenchmarkIMAPSearchUnseen100k(b *testing.B) {
	const n = 100000
	e := newEnv(b, "Bench Nutzer")
	for start := 0; start < n; start += 10000 {
		var msgs []store.NewMessage
		for i := start; i < start+10000; i++ {
			raw := bench.GenMessage(1, i, "bench.nutzer@schule.test", 300, 600)
			pb, err := e.st.WriteContent(bytes.NewReader(raw), -1)
			if err != nil {
				b.Fatal(err)
			}
			var flags []string
			if bench.GenSeen(i) {
				flags = []string{`\Seen`}
			}
			msgs = append(msgs, store.NewMessage{Blob: pb, Meta: []byte(`{}`), Flags: flags, Internal: bench.GenDate(i)})
		}
		if err := e.st.Update(func(t *store.Tx) error { _, err := t.AppendMessages("bench.nutzer", store.Inbox, msgs); return err }); err != nil {
			b.Fatal(err)
		}
	}
	c := e.login(b, "bench.nutzer", nil)
	// Selected twice, as the warm rounds of internal/bench do: the first
	// SELECT claims every message \Recent, the second none.
	for range 2 {
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { noUnseenIndex.Store(false) })
	crit := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}
	for range 3 {
		for _, mode := range []string{"scan", "index"} {
			b.Run(mode, func(b *testing.B) {
				noUnseenIndex.Store(mode == "scan")
				for b.Loop() {
					if d, err := c.UIDSearch(crit, nil).Wait(); err != nil || len(d.AllUIDs()) != n/2 {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
