package imapd

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// CONDSTORE and QRESYNC (RFC 7162) with go-imap's client, the way a
// resyncing client (Thunderbird, K-9, Apple Mail) uses them.

// settle waits until the server's view of the INBOX applied every
// commit, so the next command's poll carries the updates.
func (e *env) settle(t *testing.T, account string) {
	t.Helper()
	m, err := e.st.MailboxByName(account, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	e.srvView(t, m.ID).waitFor(m.HighestModSeq)
}

func deliverN(t *testing.T, e *env, n int, to string) {
	t.Helper()
	for i := 1; i <= n; i++ {
		e.deliver(t, fmt.Sprintf("From: a@schule.test\r\nSubject: Nachricht %d\r\n\r\nText %d\r\n", i, i), to)
	}
}

// modSeqs fetches UID → MODSEQ (and flags) of the whole mailbox.
func modSeqs(t *testing.T, c *imapclient.Client, opts *imap.FetchOptions) map[imap.UID]*imapclient.FetchMessageBuffer {
	t.Helper()
	if opts == nil {
		opts = &imap.FetchOptions{}
	}
	opts.UID, opts.Flags, opts.ModSeq = true, true, true
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, opts).Collect()
	if err != nil {
		t.Fatal(err)
	}
	out := map[imap.UID]*imapclient.FetchMessageBuffer{}
	for _, m := range msgs {
		if m.ModSeq == 0 {
			t.Fatalf("FETCH without MODSEQ: %+v", m)
		}
		out[m.UID] = m
	}
	return out
}

func TestCondStoreFetchChangedSince(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	deliverN(t, e, 3, "erika.muster")
	c := e.login(t, "erika.muster@schule.test", nil)
	if !c.Caps().Has(imap.CapCondStore) || !c.Caps().Has(imap.CapQResync) {
		t.Fatalf("CONDSTORE/QRESYNC not advertised: %v", c.Caps())
	}
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.HighestModSeq == 0 {
		t.Fatal("SELECT (CONDSTORE) without HIGHESTMODSEQ")
	}
	before := modSeqs(t, c, nil)
	if len(before) != 3 {
		t.Fatalf("%d messages", len(before))
	}
	for uid, m := range before {
		if m.ModSeq > sel.HighestModSeq {
			t.Errorf("UID %d: MODSEQ %d above HIGHESTMODSEQ %d", uid, m.ModSeq, sel.HighestModSeq)
		}
	}

	// One message changes; STORE answers with its new MODSEQ.
	stored, err := c.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].ModSeq <= sel.HighestModSeq {
		t.Fatalf("STORE answer %+v, want MODSEQ above %d", stored, sel.HighestModSeq)
	}

	// CHANGEDSINCE the old HIGHESTMODSEQ: only that message, with MODSEQ.
	changed, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
		Flags: true, ChangedSince: sel.HighestModSeq}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].UID != 2 || changed[0].ModSeq != stored[0].ModSeq ||
		!slices.Contains(changed[0].Flags, imap.FlagFlagged) {
		t.Fatalf("CHANGEDSINCE %d: %+v", sel.HighestModSeq, changed)
	}
	// CHANGEDSINCE the new one: nothing.
	none, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{Flags: true, ChangedSince: stored[0].ModSeq}).Collect()
	if err != nil || len(none) != 0 {
		t.Fatalf("CHANGEDSINCE %d: %+v %v", stored[0].ModSeq, none, err)
	}

	st, err := c.Status("INBOX", &imap.StatusOptions{HighestModSeq: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if st.HighestModSeq != stored[0].ModSeq {
		t.Errorf("STATUS HIGHESTMODSEQ %d, want %d", st.HighestModSeq, stored[0].ModSeq)
	}

	// SEARCH MODSEQ finds the changed message and names its MODSEQ.
	res, err := c.UIDSearch(&imap.SearchCriteria{ModSeq: &imap.SearchCriteriaModSeq{ModSeq: sel.HighestModSeq + 1}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if uids := res.AllUIDs(); len(uids) != 1 || uids[0] != 2 || res.ModSeq != stored[0].ModSeq {
		t.Errorf("SEARCH MODSEQ: %v MODSEQ %d", res.AllUIDs(), res.ModSeq)
	}
}

func TestCondStoreUnchangedSinceConflict(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	deliverN(t, e, 3, "erika.muster")
	a := e.login(t, "erika.muster@schule.test", nil)
	b := e.login(t, "erika.muster@schule.test", nil)
	for _, c := range []*imapclient.Client{a, b} {
		if _, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	seen := modSeqs(t, a, nil)
	// b changes message 2 behind a's back.
	if err := b.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{"$Label1"}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	// a's conditional STORE on 1:3 skips message 2 and says so.
	since := max(seen[1].ModSeq, seen[2].ModSeq, seen[3].ModSeq)
	cmd := a.Store(imap.UIDSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}},
		&imap.StoreOptions{UnchangedSince: since})
	got, err := cmd.Collect()
	if err != nil {
		t.Fatal(err)
	}
	mod, ok := cmd.Modified().(imap.UIDSet)
	if !ok || mod.String() != "2" {
		t.Fatalf("MODIFIED %v, want UID 2", cmd.Modified())
	}
	for _, m := range got {
		if m.UID == 2 && slices.Contains(m.Flags, imap.FlagSeen) {
			t.Errorf("STORE changed the modified message: %+v", m)
		}
	}
	now := modSeqs(t, a, nil)
	if slices.Contains(now[2].Flags, imap.FlagSeen) || !slices.Contains(now[2].Flags, "$Label1") {
		t.Errorf("message 2 flags %v: conditional STORE must leave it alone", now[2].Flags)
	}
	for _, uid := range []imap.UID{1, 3} {
		if !slices.Contains(now[uid].Flags, imap.FlagSeen) || now[uid].ModSeq <= since {
			t.Errorf("UID %d: %v MODSEQ %d", uid, now[uid].Flags, now[uid].ModSeq)
		}
	}

	// Sequence-number STORE reports sequence numbers; .SILENT still gives
	// MODSEQ for what changed (RFC 7162 section 3.1.3, example 8).
	// Message 1 changed after message 2 (a's STORE above).
	cmd = a.Store(imap.SeqSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}},
		&imap.StoreOptions{UnchangedSince: now[2].ModSeq})
	got, err = cmd.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := cmd.Modified().(imap.SeqSet); !ok || s.String() != "1" {
		t.Errorf("MODIFIED %v, want sequence number 1", cmd.Modified())
	}
	if len(got) != 1 || got[0].SeqNum != 2 || got[0].ModSeq <= now[2].ModSeq || got[0].Flags != nil {
		t.Errorf(".SILENT conditional STORE answered %+v, want FETCH 2 (UID MODSEQ) only", got)
	}
}

// qresyncClient logs in with ENABLE QRESYNC and collects VANISHED and
// unsolicited FETCH responses.
type qresyncClient struct {
	*imapclient.Client
	vanished chan vanishedResp
	fetched  chan *imapclient.FetchMessageBuffer
}

type vanishedResp struct {
	uids    imap.UIDSet
	earlier bool
}

func loginQResync(t *testing.T, e *env, user string) *qresyncClient {
	t.Helper()
	q := &qresyncClient{vanished: make(chan vanishedResp, 16), fetched: make(chan *imapclient.FetchMessageBuffer, 64)}
	q.Client = e.login(t, user, &imapclient.UnilateralDataHandler{
		Vanished: func(uids imap.UIDSet, earlier bool) { q.vanished <- vanishedResp{uids, earlier} },
		Fetch: func(msg *imapclient.FetchMessageData) {
			if buf, err := msg.Collect(); err == nil {
				q.fetched <- buf
			}
		},
	})
	if _, err := q.Enable(imap.CapQResync).Wait(); err != nil {
		t.Fatal(err)
	}
	return q
}

func (q *qresyncClient) nextVanished(t *testing.T) vanishedResp {
	t.Helper()
	return receive(t, q.vanished, "no VANISHED")
}

// fetchedUntil collects unsolicited FETCH responses until one for each
// of uids came.
func (q *qresyncClient) fetchedUntil(t *testing.T, uids ...imap.UID) map[imap.UID]*imapclient.FetchMessageBuffer {
	t.Helper()
	out := map[imap.UID]*imapclient.FetchMessageBuffer{}
	missing := func() bool {
		for _, u := range uids {
			if out[u] == nil {
				return true
			}
		}
		return false
	}
	for missing() {
		m := receive(t, q.fetched, fmt.Sprintf("FETCH responses %v, want UIDs %v", out, uids))
		out[m.UID] = m
	}
	return out
}

// A client that was offline reconnects with SELECT (QRESYNC): it hears
// of the messages expunged meanwhile as VANISHED (EARLIER) and of flag
// changes and arrivals as FETCH (UID FLAGS MODSEQ), nothing else (RFC 7162
// section 3.2.5.1, example 10).
func TestQResyncSelectAfterOfflineChanges(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	deliverN(t, e, 5, "erika.muster")
	user := "erika.muster@schule.test"

	first := loginQResync(t, e, user)
	sel, err := first.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Logout().Wait(); err != nil {
		t.Fatal(err)
	}

	// Another device, meanwhile: reads 2, deletes 3 and 4, one arrives.
	other := e.login(t, user, nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.UIDSetNum(3, 4), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.UIDExpunge(imap.UIDSetNum(3, 4)).Close(); err != nil {
		t.Fatal(err)
	}
	deliverN(t, e, 1, "erika.muster")

	back := loginQResync(t, e, user)
	sel2, err := back.Select("INBOX", &imap.SelectOptions{QResync: &imap.SelectQResync{
		UIDValidity: sel.UIDValidity, ModSeq: sel.HighestModSeq}}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel2.HighestModSeq <= sel.HighestModSeq || sel2.NumMessages != 4 {
		t.Fatalf("SELECT (QRESYNC): HIGHESTMODSEQ %d (was %d), %d messages", sel2.HighestModSeq, sel.HighestModSeq, sel2.NumMessages)
	}
	v := back.nextVanished(t)
	if !v.earlier || v.uids.String() != "3:4" {
		t.Errorf("VANISHED %+v, want (EARLIER) 3:4", v)
	}
	got := back.fetchedUntil(t, 2, 6) // flags changed, arrived
	if m := got[2]; m == nil || !slices.Contains(m.Flags, imap.FlagSeen) || m.ModSeq <= sel.HighestModSeq {
		t.Errorf("FETCH for UID 2: %+v", m)
	}
	if m := got[6]; m == nil || m.ModSeq <= sel.HighestModSeq {
		t.Errorf("FETCH for the new UID 6: %+v", m)
	}
	select {
	case m := <-back.fetched:
		t.Errorf("FETCH for a message unchanged since: %+v", m)
	default:
	}

	// While selected, an expunge by the other session arrives as VANISHED
	// (no EARLIER), a flag change as FETCH with MODSEQ.
	if err := other.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.UIDExpunge(imap.UIDSetNum(1)).Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.Store(imap.UIDSetNum(5), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	e.settle(t, "erika.muster")
	if err := back.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if v := back.nextVanished(t); v.earlier || v.uids.String() != "1" {
		t.Errorf("live VANISHED %+v, want 1 without EARLIER", v)
	}
	if m := back.fetchedUntil(t, 5)[5]; m == nil || m.ModSeq == 0 || !slices.Contains(m.Flags, imap.FlagFlagged) {
		t.Errorf("live FETCH for UID 5: %+v", m)
	}
	if n := back.Mailbox().NumMessages; n != 3 {
		t.Errorf("client counts %d messages after VANISHED, want 3", n)
	}

	// UID FETCH (CHANGEDSINCE VANISHED) covers expunges too, limited to
	// the UIDs asked for.
	msgs, err := back.Fetch(imap.UIDSetNum(1, 2, 3), &imap.FetchOptions{Flags: true,
		ChangedSince: sel.HighestModSeq, Vanished: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if v := back.nextVanished(t); !v.earlier || v.uids.String() != "1,3" {
		t.Errorf("UID FETCH VANISHED %+v, want (EARLIER) 1,3", v)
	}
	if len(msgs) != 1 || msgs[0].UID != 2 {
		t.Errorf("UID FETCH CHANGEDSINCE: %+v", msgs)
	}
}

// A QRESYNC SELECT with a different UIDVALIDITY is a plain SELECT: the
// client must forget its cache and gets no VANISHED (section 3.2.5).
func TestQResyncUIDValidityChanged(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	deliverN(t, e, 2, "erika.muster")
	q := loginQResync(t, e, "erika.muster@schule.test")
	sel, err := q.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Select("INBOX", &imap.SelectOptions{QResync: &imap.SelectQResync{
		UIDValidity: sel.UIDValidity + 1, ModSeq: 1}}).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := q.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-q.vanished:
		t.Errorf("VANISHED %+v after a UIDVALIDITY mismatch", v)
	case m := <-q.fetched:
		t.Errorf("FETCH %+v after a UIDVALIDITY mismatch", m)
	default:
	}
}

// RFC 7162's examples replayed over the wire, with the mod-sequences this
// server gives. {hms} is the HIGHESTMODSEQ before the step, {m<uid>} a
// message's MODSEQ, {uv} the UIDVALIDITY. The last rows are what
// Thunderbird sends (SELECT (CONDSTORE), then UID FETCH 1:* (FLAGS)
// (CHANGEDSINCE n) when HIGHESTMODSEQ moved), and what K-9/Apple Mail
// send with QRESYNC.
func TestRFC7162Examples(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	deliverN(t, e, 6, "erika.muster")
	r := dialRaw(t, e.addr)
	r.cmd("LOGIN erika.muster@schule.test %s", pw)
	other := e.login(t, "erika.muster@schule.test", nil)
	if _, err := other.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	otherStore := func(uid imap.UID, flag imap.Flag) func() {
		return func() {
			if err := other.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}, nil).Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	otherExpunge := func(uid imap.UID) func() {
		return func() {
			otherStore(uid, imap.FlagDeleted)()
			if err := other.UIDExpunge(imap.UIDSetNum(uid)).Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	vals := map[string]string{}
	refresh := func() {
		st, err := other.Status("INBOX", &imap.StatusOptions{HighestModSeq: true, UIDValidity: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		vals["hms"] = fmt.Sprint(st.HighestModSeq)
		vals["hms+1"] = fmt.Sprint(st.HighestModSeq + 1)
		vals["uv"] = fmt.Sprint(st.UIDValidity)
		msgs, err := other.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, ModSeq: true}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			vals[fmt.Sprintf("m%d", m.UID)] = fmt.Sprint(m.ModSeq)
		}
	}
	fill := func(s string) string {
		for k, v := range vals {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}

	steps := []struct {
		name    string
		before  func()   // another session's change, before the values are read
		after   func()   // between reading the values and the command
		cmd     string   // with {placeholders}
		status  string   // prefix of the tagged answer
		want    []string // substrings of untagged lines, in order
		notWant []string
	}{
		{name: "SELECT (CONDSTORE) reports HIGHESTMODSEQ (example 1)",
			cmd: "SELECT INBOX (CONDSTORE)", status: "OK [READ-WRITE]", want: []string{"OK [HIGHESTMODSEQ {hms}]"}},
		{name: "FETCH MODSEQ (example 2)",
			cmd: "FETCH 1:2 (MODSEQ)", status: "OK", want: []string{"* 1 FETCH (MODSEQ ({m1}))", "* 2 FETCH (MODSEQ ({m2}))"}},
		{name: "conditional STORE; the message changed since is named in MODIFIED (example 5)",
			after: otherStore(3, "$Work"),
			cmd:   "STORE 1,3 (UNCHANGEDSINCE {m3}) +FLAGS.SILENT (\\Deleted)", status: "OK [MODIFIED 3]",
			want: []string{"* 1 FETCH (UID 1 MODSEQ ("}, notWant: []string{"* 3 FETCH (UID 3 MODSEQ"}},
		{name: "UNCHANGEDSINCE the current MODSEQ succeeds (example 6)",
			cmd: "UID STORE 2 (UNCHANGEDSINCE {m2}) +FLAGS ($NoJunk)", status: "OK",
			want: []string{"* 2 FETCH (UID 2 FLAGS ($NoJunk) MODSEQ ("}, notWant: []string{"MODIFIED"}},
		{name: "UNCHANGEDSINCE 0 fails for every message (section 3.1.3)",
			cmd: "STORE 4:5 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)", status: "OK [MODIFIED 4:5]", notWant: []string{"FETCH"}},
		{name: "FETCH CHANGEDSINCE (example 12)",
			cmd: "FETCH 1:* (FLAGS) (CHANGEDSINCE {m1})", status: "OK",
			want: []string{"* 2 FETCH (FLAGS ($NoJunk) MODSEQ ({m2}))"}, notWant: []string{"* 1 FETCH", "* 4 FETCH"}},
		{name: "SEARCH MODSEQ appends (MODSEQ n) (example 15)",
			cmd: "SEARCH MODSEQ \"/flags/$nojunk\" all {m2}", status: "OK", want: []string{"* SEARCH 2 (MODSEQ {m2})"}},
		{name: "SEARCH MODSEQ with no match has no MODSEQ",
			cmd: "SEARCH MODSEQ {hms} UNSEEN 6", status: "OK", want: []string{"* SEARCH"}, notWant: []string{"(MODSEQ"}},
		{name: "ESEARCH with MODSEQ (RFC 4731 + 7162 section 3.1.10)",
			cmd: "SEARCH RETURN (MIN COUNT) MODSEQ {m1}", status: "OK", want: []string{"MIN 1 COUNT 2 MODSEQ {m2}"}},
		{name: "STATUS HIGHESTMODSEQ (example 3)",
			cmd: "STATUS INBOX (HIGHESTMODSEQ)", status: "OK", want: []string{"* STATUS INBOX (HIGHESTMODSEQ {hms})"}},
		{name: "another session's change arrives with MODSEQ",
			after: otherStore(4, imap.FlagFlagged),
			cmd:   "NOOP", status: "OK", want: []string{"* 4 FETCH (UID 4 FLAGS (\\Flagged) MODSEQ ("}},
		{name: "Thunderbird: UID FETCH 1:* (FLAGS) (CHANGEDSINCE n) after HIGHESTMODSEQ moved",
			after: otherStore(5, imap.FlagAnswered),
			cmd:   "UID FETCH 1:* (FLAGS) (CHANGEDSINCE {hms})", status: "OK",
			want: []string{"FETCH (UID 5 FLAGS (\\Answered) MODSEQ ("}, notWant: []string{"UID 4 "}},
		{name: "an expunge held back during FETCH: HIGHESTMODSEQ below it (section 3.2)",
			after: otherExpunge(3), // \Deleted at hms+1, expunged at hms+2
			cmd:   "FETCH 1 (FLAGS)", status: "OK", want: []string{"* OK [HIGHESTMODSEQ {hms+1}]"}, notWant: []string{"EXPUNGE"}},
		{name: "VANISHED without QRESYNC enabled is refused (section 3.2.6)",
			cmd: "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)", status: "BAD"},
		{name: "SELECT (QRESYNC) without ENABLE is refused (section 3.2.5)",
			cmd: "SELECT INBOX (QRESYNC ({uv} 1))", status: "BAD"},
		{name: "ENABLE QRESYNC (example 9)",
			cmd: "ENABLE QRESYNC", status: "OK", want: []string{"* ENABLED QRESYNC"}},
		{name: "VANISHED needs CHANGEDSINCE",
			cmd: "UID FETCH 1:* (FLAGS) (VANISHED)", status: "BAD"},
		{name: "now EXPUNGE is VANISHED (section 3.2.10, example 11)",
			after: otherExpunge(6),
			cmd:   "NOOP", status: "OK", want: []string{"* VANISHED 6"}, notWant: []string{"EXPUNGE"}},
		{name: "UID EXPUNGE of our own answers with VANISHED too",
			cmd: "UID EXPUNGE 1", status: "OK", want: []string{"* VANISHED 1"}, notWant: []string{"EXPUNGE"}},
		{name: "UID FETCH (CHANGEDSINCE VANISHED) (example 13)",
			cmd: "UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m1} VANISHED)", status: "OK",
			want: []string{"* VANISHED (EARLIER) 1,3,6", "FETCH (UID 2 FLAGS ($NoJunk) MODSEQ ({m2}))"}},
		{name: "K-9/Apple Mail: SELECT (QRESYNC (uidvalidity modseq known-uids)) (example 10)",
			before: otherStore(2, imap.FlagSeen),
			cmd:    "SELECT INBOX (QRESYNC ({uv} {m1} 1:5))", status: "OK [READ-WRITE]",
			want: []string{"OK [HIGHESTMODSEQ {hms}]", "* VANISHED (EARLIER) 1,3", "FETCH (UID 2 FLAGS ("}, notWant: []string{"UID 6"}},
		{name: "SELECT (QRESYNC) with seq-match data is accepted (example 10, last form)",
			cmd: "EXAMINE INBOX (QRESYNC ({uv} {hms} 1:5 (1:2 2:3)))", status: "OK [READ-ONLY]",
			want: []string{"OK [HIGHESTMODSEQ {hms}]"}, notWant: []string{"VANISHED", "FETCH"}},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		refresh()
		if s.after != nil {
			s.after()
			e.settle(t, "erika.muster")
		}
		cmd := fill(s.cmd)
		untagged, status := r.try("%s", cmd)
		if !strings.HasPrefix(status, fill(s.status)) {
			t.Errorf("%s: %s → %s (want %s)\n%s", s.name, cmd, status, fill(s.status), strings.Join(untagged, "\n"))
			continue
		}
		at := 0
		for _, w := range s.want {
			w = fill(w)
			i := index(untagged[at:], w)
			if i < 0 {
				t.Errorf("%s: %s: no %q in order in\n%s", s.name, cmd, w, strings.Join(untagged, "\n"))
				break
			}
			at += i + 1
		}
		for _, nw := range s.notWant {
			if has(untagged, fill(nw)) {
				t.Errorf("%s: %s: unexpected %q in\n%s", s.name, cmd, fill(nw), strings.Join(untagged, "\n"))
			}
		}
	}
}
