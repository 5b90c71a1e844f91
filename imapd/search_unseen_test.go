package imapd

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/internal/admin"
	"schulhof/policy"
	"schulhof/store"
)

// SEARCH UNSEEN and SEEN come from the unseen index and answer what the
// scan answers, in every form, while another session stores flags,
// expunges, copies and new mail arrives: checked between two sessions
// with the same history (one searching through the index, the other
// scanning), with the changes not yet announced to them and after NOOP
// against the flags the writer fetches.
func TestIMAPSearchUnseenIndexUnderOtherSessions(t *testing.T) {
	t.Cleanup(func() { noUnseenIndex.Store(false) })
	e := newEnvOpts(t, t.TempDir(), store.Options{UnseenIndexFrom: 10}, "Erika Muster")
	const user = "erika.muster"
	for i := range 24 {
		e.deliver(t, fmt.Sprintf("Subject: m%d\r\n\r\nbody\r\n", i), user)
	}
	var sessions [3]*imapclient.Client
	for i := range sessions {
		sessions[i] = e.login(t, user, nil)
		if _, err := sessions[i].Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	idx, scan, w := sessions[0], sessions[1], sessions[2]
	seen := []imap.Flag{imap.FlagSeen}
	star := imap.UIDRange{Start: 5, Stop: 0}
	crits := []imap.SearchCriteria{
		{NotFlag: seen},
		{Flag: seen},
		{Not: []imap.SearchCriteria{{Flag: seen}}},
		{Not: []imap.SearchCriteria{{NotFlag: seen}}},
		{NotFlag: seen, UID: []imap.UIDSet{{star}}},
		{Flag: seen, UID: []imap.UIDSet{{{Start: 0, Stop: 0}}}}, // UID *
		{NotFlag: seen, SeqNum: []imap.SeqSet{{{Start: 2, Stop: 7}, {Start: 0, Stop: 0}}}},
		{Flag: seen, SeqNum: []imap.SeqSet{{{Start: 3, Stop: 0}}}, UID: []imap.UIDSet{{{Start: 1, Stop: 30}}}},
		{NotFlag: []imap.Flag{"\\seen"}},
		{Not: []imap.SearchCriteria{{Flag: seen, UID: []imap.UIDSet{{{Start: 1, Stop: 12}}}}}}, // not a subset of UNSEEN
		{Not: []imap.SearchCriteria{{NotFlag: seen, SeqNum: []imap.SeqSet{{{Start: 4, Stop: 0}}}}}},
	}
	opts := []*imap.SearchOptions{nil, {ReturnMin: true, ReturnMax: true, ReturnCount: true}, {ReturnAll: true}}
	before := seenIndexAnswers.Load()
	indexed := int64(0)
	// compare runs every search on idx (index) and scan (scan) in the same
	// order, so both see the same announcements in between.
	compare := func(step int) {
		t.Helper()
		// SEARCH before UID SEARCH: expunges stay unannounced until the
		// first UID SEARCH, so the sequence numbers of all SEARCHes need
		// the tracker.
		for _, uid := range []bool{false, true} {
			for ci := range crits {
				for _, o := range opts {
					run := func(c *imapclient.Client, noIndex bool) *imap.SearchData {
						noUnseenIndex.Store(noIndex)
						defer noUnseenIndex.Store(false)
						search := c.Search
						if uid {
							search = c.UIDSearch
						}
						cmd := search(&crits[ci], o)
						d, err := cmd.Wait()
						if err != nil {
							t.Fatalf("step %d: SEARCH %+v: %v", step, crits[ci], err)
						}
						return d
					}
					a, b := run(idx, false), run(scan, true)
					if _, ok := seenQuery(&crits[ci]); ok {
						indexed++
					}
					if !reflect.DeepEqual(a, b) {
						t.Fatalf("step %d: %+v uid %v opts %+v: index %+v, scan %+v", step, crits[ci], uid, o, a, b)
					}
				}
			}
		}
	}
	// truth is the writer's UID FETCH of every message's flags.
	truth := func() (unseen, all []imap.UID) {
		if err := w.Noop().Wait(); err != nil { // told of the new mail too
			t.Fatal(err)
		}
		msgs, err := w.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			all = append(all, m.UID)
			if !slices.Contains(m.Flags, imap.FlagSeen) {
				unseen = append(unseen, m.UID)
			}
		}
		slices.Sort(all)
		slices.Sort(unseen)
		return unseen, all
	}
	rng := rand.New(rand.NewPCG(12, 1))
	someUIDs := func() imap.UIDSet {
		var set imap.UIDSet
		for u := range imap.UID(40) {
			if rng.IntN(4) == 0 {
				set.AddNum(u + 1)
			}
		}
		if len(set) == 0 {
			set.AddNum(1)
		}
		return set
	}
	storeFlags := func(op imap.StoreFlagsOp, flags ...imap.Flag) {
		t.Helper()
		if _, err := w.Store(someUIDs(), &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Collect(); err != nil {
			t.Fatal(err)
		}
	}
	for step := range 30 {
		for range 1 + rng.IntN(3) {
			switch rng.IntN(7) {
			case 0, 1:
				storeFlags(imap.StoreFlagsAdd, imap.FlagSeen)
			case 2:
				storeFlags(imap.StoreFlagsDel, imap.FlagSeen)
			case 3:
				storeFlags(imap.StoreFlagsSet, imap.FlagDeleted)
			case 4:
				storeFlags(imap.StoreFlagsAdd, imap.FlagDeleted)
				if err := w.Expunge().Close(); err != nil {
					t.Fatal(err)
				}
			case 5:
				e.deliver(t, fmt.Sprintf("Subject: neu %d\r\n\r\nbody\r\n", step), user)
				m, err := e.st.MailboxByName(user, store.Inbox)
				if err != nil {
					t.Fatal(err)
				}
				e.srvView(t, m.ID).waitFor(m.HighestModSeq) // the sessions' view has it
			case 6:
				if _, err := w.Copy(someUIDs(), "INBOX").Wait(); err != nil {
					t.Fatal(err)
				}
			}
		}
		compare(step) // changes not yet announced: sequence numbers as the client knows them
		for _, c := range []*imapclient.Client{idx, scan} {
			if err := c.Noop().Wait(); err != nil {
				t.Fatal(err)
			}
		}
		compare(step)
		wantUnseen, all := truth()
		d, err := idx.UIDSearch(&imap.SearchCriteria{NotFlag: seen}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		indexed++
		if got := d.AllUIDs(); !slices.Equal(got, wantUnseen) {
			t.Fatalf("step %d: UID SEARCH UNSEEN %v, the flags say %v", step, got, wantUnseen)
		}
		d, err = idx.Search(&imap.SearchCriteria{Flag: seen}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		indexed++
		var gotSeen []imap.UID
		for _, seq := range d.AllSeqNums() {
			gotSeen = append(gotSeen, all[seq-1]) // after NOOP: sequence number = position
		}
		var wantSeen []imap.UID
		for _, u := range all {
			if !slices.Contains(wantUnseen, u) {
				wantSeen = append(wantSeen, u)
			}
		}
		if !slices.Equal(gotSeen, wantSeen) {
			t.Fatalf("step %d: SEARCH SEEN %v, the flags say %v", step, gotSeen, wantSeen)
		}
	}
	if got := seenIndexAnswers.Load() - before; got != indexed {
		t.Fatalf("the index answered %d of %d searches", got, indexed)
	}
}

// A large mailbox without the index (a version before it left it so, as
// does a store that kept it from a larger size) gets it built on the
// first SEARCH UNSEEN and answers from it; a small one is scanned.
func TestIMAPSearchUnseenBuildsIndex(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{UnseenIndexFrom: 1000})
	if err != nil {
		t.Fatal(err)
	}
	svc := &admin.Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test", DefaultConsentComms: true}
	c, err := svc.AddUser("test", admin.NewUser{First: "Erika", Last: "Muster", Role: policy.Student, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	user := c.Account.Name
	st.UpdateAccount(user, func(a *store.Account) error { a.MustChange = false; return nil })
	var want []imap.UID
	for i := range 30 {
		pb, err := st.WriteBlob(strings.NewReader(fmt.Sprintf("Subject: m%d\r\n\r\nx\r\n", i)), -1)
		if err != nil {
			t.Fatal(err)
		}
		var flags []string
		if i%3 != 0 {
			flags = []string{`\Seen`}
		} else {
			want = append(want, imap.UID(i+1))
		}
		_, err = st.Deliver(store.Delivery{NewMessage: store.NewMessage{Blob: pb, Flags: flags}, Recipients: []string{user}})
		pb.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	e := newEnvOpts(t, dir, store.Options{UnseenIndexFrom: 20})
	cl := e.login(t, user, nil)
	for _, name := range []string{"Archive", "INBOX"} {
		if _, err := cl.Select(name, nil).Wait(); err != nil {
			t.Fatal(err)
		}
		before := seenIndexAnswers.Load()
		d, err := cl.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		indexed := seenIndexAnswers.Load() - before
		m, err := e.st.MailboxByName(user, name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "Archive" {
			if len(d.AllUIDs()) != 0 || indexed != 0 || m.UnseenIndex {
				t.Fatalf("empty Archive: %v, %d answers from the index, indexed %v", d.AllUIDs(), indexed, m.UnseenIndex)
			}
			continue
		}
		if got := d.AllUIDs(); !slices.Equal(got, want) || indexed != 1 || !m.UnseenIndex {
			t.Fatalf("INBOX: %v (want %v), %d answers from the index, indexed %v", got, want, indexed, m.UnseenIndex)
		}
	}
}
