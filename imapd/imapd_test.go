package imapd

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

const pw = "Str0ng!Passw0rd"

type env struct {
	st   *store.Store
	addr string
	svc  *admin.Service
	srv  *Server
}

// srvView is the server's shared view of a selected mailbox.
func (e *env) srvView(t *testing.T, id uint64) *mailboxView {
	e.srv.reg.mu.Lock()
	defer e.srv.reg.mu.Unlock()
	b := e.srv.reg.boxes[id]
	if b == nil {
		t.Fatal("mailbox not open")
	}
	return b
}

func newEnv(t testing.TB, users ...string) *env {
	t.Helper()
	return newEnvOpts(t, t.TempDir(), store.Options{}, users...)
}

// newEnvOpts is newEnv with its store in dir, opened with opt.
func newEnvOpts(t testing.TB, dir string, opt store.Options, users ...string) *env {
	t.Helper()
	st, err := store.Open(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	svc := &admin.Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test", DefaultConsentComms: true}
	for _, u := range users {
		first, last, _ := strings.Cut(u, " ")
		c, err := svc.AddUser("test", admin.NewUser{First: first, Last: last, Role: policy.Student, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		st.UpdateAccount(c.Account.Name, func(a *store.Account) error { a.MustChange = false; return nil })
	}
	v := auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(Options{Store: st, Auth: v, Policy: policy.NewEngine(), Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); v.Close(); st.Close() })
	return &env{st: st, addr: ln.Addr().String(), svc: svc, srv: srv}
}

func (e *env) deliver(t testing.TB, msg string, to ...string) {
	t.Helper()
	pb, err := e.st.WriteBlob(strings.NewReader(msg), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	meta, err := Summarize(e.st, pb.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Deliver(store.Delivery{NewMessage: store.NewMessage{Blob: pb, Meta: meta}, Recipients: to}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) login(t testing.TB, user string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(e.addr, &imapclient.Options{UnilateralDataHandler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

const sample = "From: Max Müller <max.mueller@schule.test>\r\n" +
	"To: Erika Muster <erika.muster@schule.test>\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"Date: Mon, 02 Nov 2026 10:00:00 +0100\r\n" +
	"Message-ID: <abc@schule.test>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XX\r\n\r\n" +
	"--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHausaufgaben f=C3=BCr Mathe\r\n" +
	"--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hausaufgaben</p>\r\n--XX--\r\n"

func TestIMAPFetchSearchStore(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	c := e.login(t, "erika.muster@schule.test", nil)

	boxes, err := c.List("", "*", &imap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	special := map[string]imap.MailboxAttr{}
	for _, b := range boxes {
		for _, a := range b.Attrs {
			if a == imap.MailboxAttrSent || a == imap.MailboxAttrTrash || a == imap.MailboxAttrJunk ||
				a == imap.MailboxAttrDrafts || a == imap.MailboxAttrArchive {
				special[b.Mailbox] = a
			}
		}
	}
	if len(boxes) != 6 || special["Sent"] != imap.MailboxAttrSent || special["Archive"] != imap.MailboxAttrArchive {
		t.Fatalf("LIST: %+v", boxes)
	}

	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatal(sel, err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true}, Flags: true,
		RFC822Size: true, InternalDate: true, UID: true,
		BodySection: []*imap.FetchItemBodySection{{Part: []int{1}}, {Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: 4}}},
	}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatal(msgs, err)
	}
	m := msgs[0]
	if m.Envelope.Subject != "Grüße" || m.Envelope.From[0].Mailbox != "max.mueller" || m.Envelope.MessageID != "abc@schule.test" {
		t.Fatalf("envelope %+v", m.Envelope)
	}
	mp, ok := m.BodyStructure.(*imap.BodyStructureMultiPart)
	if !ok || len(mp.Children) != 2 || mp.Subtype != "alternative" {
		t.Fatalf("bodystructure %#v", m.BodyStructure)
	}
	if m.RFC822Size != int64(len(sample)) {
		t.Fatalf("size %d", m.RFC822Size)
	}
	for _, sb := range m.BodySection {
		sec, b := sb.Section, sb.Bytes
		if len(sec.Part) == 1 && !strings.Contains(string(b), "Hausaufgaben f=C3=BCr") {
			t.Fatalf("part 1: %q", b)
		}
		if sec.Partial != nil && string(b) != "From" {
			t.Fatalf("partial: %q", b)
		}
	}
	// BODY[1] without PEEK set \Seen
	fl, _ := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
	if len(fl) != 1 || !slices.Equal(stored(fl[0].Flags), []imap.Flag{imap.FlagSeen}) {
		t.Fatalf("flags after fetch: %+v", fl)
	}

	for _, tc := range []struct {
		crit imap.SearchCriteria
		want int
	}{
		{imap.SearchCriteria{Body: []string{"hausaufgaben für"}}, 1},
		{imap.SearchCriteria{Text: []string{"Grüße"}}, 1},
		{imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "grüße"}}}, 1},
		{imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "nobody"}}}, 0},
		{imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, 0},
		{imap.SearchCriteria{Flag: []imap.Flag{"\\SEEN"}}, 1},
	} {
		res, err := c.UIDSearch(&tc.crit, nil).Wait()
		if err != nil || len(res.AllUIDs()) != tc.want {
			t.Fatalf("search %+v: %v %v", tc.crit, res, err)
		}
	}

	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"\\flagged", "$Label1"}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	fl, _ = c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
	got := map[imap.Flag]bool{}
	for _, f := range fl[0].Flags {
		got[f] = true
	}
	if !got[imap.FlagFlagged] || !got["$Label1"] || !got[imap.FlagSeen] {
		t.Fatalf("flags %v", fl[0].Flags)
	}
}

func TestIMAPIdleSeesDeliveryAndOtherSessionsFlags(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	exists := make(chan uint32, 10)
	fetches := make(chan *imapclient.FetchMessageData, 10)
	expunges := make(chan uint32, 10)
	a := e.login(t, "erika.muster", &imapclient.UnilateralDataHandler{
		Mailbox: existsTo(exists),
		Fetch:   func(m *imapclient.FetchMessageData) { fetches <- m },
		Expunge: func(seq uint32) { expunges <- seq },
	})
	if _, err := a.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := a.Idle()
	if err != nil {
		t.Fatal(err)
	}
	e.deliver(t, sample, "erika.muster")
	if n := receive(t, exists, "IDLE did not report the delivery"); n != 2 {
		t.Fatalf("EXISTS %d, want 2", n)
	}

	b := e.login(t, "erika.muster", nil)
	if _, err := b.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := b.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	receive(t, fetches, "IDLE did not report the flag change")
	if err := b.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if seq := receive(t, expunges, "IDLE did not report the expunge"); seq != 1 {
		t.Fatalf("EXPUNGE %d", seq)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	// pipelined right after DONE, like iOS Mail
	msgs, err := a.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{UID: true}).Collect()
	if err != nil || len(msgs) != 1 || msgs[0].UID != 2 {
		t.Fatalf("after idle: %+v %v", msgs, err)
	}
}

// TestIMAPIdleAnnouncesDeliveryBeforeIdle: mail delivered after SELECT but
// before IDLE (nothing polled in between) is announced when IDLE begins.
func TestIMAPIdleAnnouncesDeliveryBeforeIdle(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	exists := make(chan uint32, 10)
	a := e.login(t, "erika.muster", &imapclient.UnilateralDataHandler{
		Mailbox: existsTo(exists),
	})
	if _, err := a.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	e.deliver(t, sample, "erika.muster")
	idle, err := a.Idle()
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if n := receive(t, exists, "IDLE did not report the message delivered before it began"); n != 1 {
		t.Fatalf("EXISTS %d, want 1", n)
	}
}

// existsTo passes every EXISTS count the server announces to exists.
func existsTo(exists chan<- uint32) func(*imapclient.UnilateralDataMailbox) {
	return func(d *imapclient.UnilateralDataMailbox) {
		if d.NumMessages != nil {
			exists <- *d.NumMessages
		}
	}
}

// receive is the next value on ch, the test's wait for something the
// server announces; none within 10 s fails the test with missing.
func receive[T any](t *testing.T, ch <-chan T, missing string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal(missing)
	}
	var zero T
	return zero
}

func TestIMAPMoveExamineAppend(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	e.deliver(t, sample, "erika.muster")
	var expunged []uint32
	c := e.login(t, "erika.muster", &imapclient.UnilateralDataHandler{Expunge: func(seq uint32) { expunged = append(expunged, seq) }})

	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err == nil {
		t.Fatal("STORE allowed after EXAMINE")
	}
	c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	fl, _ := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect()
	if len(stored(fl[0].Flags)) != 0 {
		t.Fatalf("EXAMINE set flags: %v", fl[0].Flags)
	}

	if err := c.Expunge().Close(); err == nil {
		t.Fatal("EXPUNGE allowed after EXAMINE")
	}
	if err := c.UnselectAndExpunge().Wait(); err != nil { // CLOSE: silently nothing
		t.Fatal(err)
	}

	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := c.Move(imap.SeqSetNum(1), "Archive").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if data.UIDValidity == 0 || len(expunged) != 1 || expunged[0] != 1 {
		t.Fatalf("move: %+v expunged %v", data, expunged)
	}
	st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true, UIDNext: true}).Wait()
	if err != nil || *st.NumMessages != 1 || st.UIDNext != 2 {
		t.Fatal(st, err)
	}

	msg := "Subject: draft\r\n\r\nhello\r\n"
	ap := c.Append("Drafts", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft}})
	ap.Write([]byte(msg))
	ap.Close()
	ad, err := ap.Wait()
	if err != nil || ad.UID != 1 {
		t.Fatal(ad, err)
	}
	if err := c.Create("Projekte/Bio", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("Projekte/Bio", "Bio", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("Bio").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("INBOX").Wait(); err == nil {
		t.Fatal("INBOX deleted")
	}
}

func TestIMAPAppendLimit(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	c := e.login(t, "erika.muster", nil)
	big := policy.DefaultMaxTransferBytes + 1
	ap := c.Append("INBOX", big, nil)
	// The server refuses before the literal is sent.
	_, err := ap.Wait()
	if err == nil || !strings.Contains(err.Error(), "TOOBIG") {
		t.Fatalf("append over limit: %v", err)
	}
	if c.Caps().Has("APPENDLIMIT=20971520") == false {
		t.Logf("caps %v", c.Caps())
	}
}

func TestIMAPLockClosesSessions(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	c := e.login(t, "erika.muster", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Lock("test", "erika.muster", "Test"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Closed():
	case <-time.After(time.Second):
		t.Fatal("session still open one second after the lock")
	}
}

// iOS Mail sends its next command in the same packet as IDLE's DONE.
func TestIMAPPipelinedAfterIdleDone(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	expect := func(prefix string) string {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		}
	}
	expect("* OK")
	fmt.Fprintf(conn, "a1 LOGIN erika.muster %s\r\n", pw)
	expect("a1 OK")
	fmt.Fprintf(conn, "a2 SELECT INBOX\r\n")
	expect("a2 OK")
	fmt.Fprintf(conn, "a3 IDLE\r\n")
	expect("+ ")
	e.deliver(t, sample, "erika.muster")
	expect("* 2 EXISTS")
	fmt.Fprintf(conn, "DONE\r\na4 UID FETCH 1:* (FLAGS)\r\na5 NOOP\r\n")
	expect("a3 OK")
	if l := expect("* 2 FETCH"); !strings.Contains(l, "UID 2") {
		t.Fatalf("fetch after DONE: %q", l)
	}
	expect("a4 OK")
	expect("a5 OK")
}

func TestIMAPMailboxCommands(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	e.deliver(t, sample, "erika.muster")
	c := e.login(t, "erika.muster", nil)

	ns, err := c.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' {
		t.Fatal(ns, err)
	}
	if err := c.Create("Projekt", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrFlagged}}).Wait(); err == nil {
		t.Fatal("unknown special-use accepted")
	}
	if err := c.Create("Projekt", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	first, _ := c.Status("Projekt", &imap.StatusOptions{UIDValidity: true}).Wait()
	if err := c.Unsubscribe("Projekt").Wait(); err != nil {
		t.Fatal(err)
	}
	subs, _ := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	for _, s := range subs {
		if s.Mailbox == "Projekt" {
			t.Fatal("unsubscribed mailbox listed as subscribed")
		}
	}
	c.Delete("Projekt").Wait()
	c.Create("Projekt", nil).Wait()
	again, _ := c.Status("Projekt", &imap.StatusOptions{UIDValidity: true}).Wait()
	if again.UIDValidity == first.UIDValidity {
		t.Fatal("UIDVALIDITY reused for a re-created name")
	}

	if _, err := c.Select("inbox", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	cd, err := c.Copy(imap.SeqSetNum(1, 2), "Projekt").Wait()
	if err != nil || len(cd.DestUIDs) == 0 {
		t.Fatal(cd, err)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Gibtsnicht").Wait(); err == nil || !strings.Contains(err.Error(), "TRYCREATE") {
		t.Fatalf("copy to missing mailbox: %v", err)
	}
	c.Store(imap.SeqSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close()
	// UID EXPUNGE removes only the named message
	if err := c.UIDExpunge(imap.UIDSetNum(2)).Close(); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true, UIDNext: true}).Wait()
	if err != nil || *st.NumMessages != 1 || *st.NumUnseen != 1 || st.UIDNext != 3 {
		t.Fatalf("status %+v %v", st, err)
	}
	boxes, err := c.List("", "%", &imap.ListOptions{ReturnStatus: &imap.StatusOptions{NumMessages: true}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range boxes {
		if b.Mailbox == "Projekt" && (b.Status == nil || *b.Status.NumMessages != 2) {
			t.Fatalf("LIST-STATUS %+v", b)
		}
	}
}

// Concurrent deliveries, flag changes and expunges from several sessions
// never confuse sequence numbers (the library panics when they go out of
// order) and every session ends with the same view.
func TestIMAPConcurrentWriters(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	var clients []*imapclient.Client
	for i := 0; i < 3; i++ {
		c := e.login(t, "erika.muster", nil)
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 60; i++ {
			e.deliver(t, sample, "erika.muster")
		}
	}()
	for i := 0; i < 20; i++ {
		c := clients[i%3]
		c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close()
		c.Expunge().Close()
		c.Noop().Wait()
	}
	<-done
	m, _ := e.st.MailboxByName("erika.muster", store.Inbox)
	var want []imap.UID
	for i, c := range clients {
		// The feed reaches the sessions shortly after the last commit:
		// NOOP until this client has been told everything.
		var got []imap.UID
		for try := 0; try < 200; try++ {
			c.Noop().Wait()
			res, err := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
			if err != nil {
				t.Fatal(err)
			}
			got = res.AllUIDs()
			if mb := c.Mailbox(); len(got) == int(m.Messages) && mb != nil && mb.NumMessages == m.Messages {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		res, _ := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
		seq, err := c.Search(&imap.SearchCriteria{}, nil).Wait()
		if err != nil || len(seq.AllSeqNums()) != len(got) {
			t.Fatalf("client %d: %d seqs for %d uids (%v): %v / %v", i, len(seq.AllSeqNums()), len(got), err, seq.All, res.All)
		}
		if i == 0 {
			want = got
		} else if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("client %d sees %v, client 0 %v", i, got, want)
		}
	}
	if int(m.Messages) != len(want) {
		t.Fatalf("store has %d, sessions see %d", m.Messages, len(want))
	}
}

// IMAP4rev2 clients (ENABLE) get ESEARCH; SEARCHRES "$" reuses a result.
func TestIMAP4rev2SearchRes(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	e.deliver(t, "Subject: anders\r\n\r\nnichts\r\n", "erika.muster")
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(conn)
	expect := func(prefix string) string {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
		}
	}
	expect("* OK")
	fmt.Fprintf(conn, "a1 LOGIN erika.muster %s\r\n", pw)
	expect("a1 OK")
	fmt.Fprintf(conn, "a2 ENABLE IMAP4rev2\r\n")
	expect("a2 OK")
	fmt.Fprintf(conn, "a3 SELECT INBOX\r\n")
	// every flag a client may set, not only those in use
	if l := expect("* FLAGS"); !strings.Contains(l, `\Draft`) || !strings.Contains(l, `\Answered`) {
		t.Fatalf("FLAGS: %q", l)
	}
	if l := expect("* OK [PERMANENTFLAGS"); !strings.Contains(l, `\*`) || !strings.Contains(l, `\Deleted`) {
		t.Fatalf("PERMANENTFLAGS: %q", l)
	}
	expect("a3 OK")
	fmt.Fprintf(conn, "a4 UID SEARCH RETURN (SAVE) SUBJECT anders\r\n")
	expect("a4 OK")
	fmt.Fprintf(conn, "a5 FETCH $ (UID)\r\n")
	if l := expect("* "); !strings.Contains(l, "UID 2") {
		t.Fatalf("FETCH $: %q", l)
	}
	expect("a5 OK")
	fmt.Fprintf(conn, "a6 SEARCH RETURN (COUNT) ALL\r\n")
	if l := expect("* ESEARCH"); !strings.Contains(l, "COUNT 2") {
		t.Fatalf("ESEARCH: %q", l)
	}
	expect("a6 OK")
	fmt.Fprintf(conn, "c1 CAPABILITY\r\n")
	if l := expect("* CAPABILITY"); !strings.Contains(l, "APPENDLIMIT=20971520") || !strings.Contains(l, "MOVE") || !strings.Contains(l, "IMAP4rev2") || !strings.Contains(l, "SEARCHRES") {
		t.Fatalf("capabilities: %q", l)
	}
	expect("c1 OK")
	fmt.Fprintf(conn, "a7 UNAUTHENTICATE\r\n")
	expect("a7 OK")
	fmt.Fprintf(conn, "a8 SELECT INBOX\r\n")
	expect("a8 BAD")
}

// When the dispatcher falls behind the feed, it resubscribes and brings
// the open views up to date from the store; sessions carry on.
func TestIMAPFeedOverflowResync(t *testing.T) {
	old := feedBuffer
	feedBuffer = 2
	defer func() { feedBuffer = old }()
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	c := e.login(t, "erika.muster", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	m, _ := e.st.MailboxByName("erika.muster", store.Inbox)
	// Stall the dispatcher on the view while changes pile up.
	e.srvView(t, m.ID).mu.Lock()
	e.deliver(t, sample, "erika.muster")
	e.st.Expunge(m.ID, []uint32{1}, nil)
	for i := 0; i < 10; i++ {
		e.deliver(t, sample, "erika.muster")
	}
	e.srvView(t, m.ID).mu.Unlock()
	want := uint32(11)
	var got uint32
	for try := 0; try < 200; try++ {
		c.Noop().Wait()
		if mb := c.Mailbox(); mb != nil {
			got = mb.NumMessages
		}
		res, _ := c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
		if got == want && res != nil && len(res.AllUIDs()) == int(want) {
			if e.srv.reg.resyncs.Load() == 0 {
				t.Fatal("the feed never overflowed: the test did not test the resync")
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("after resync the client sees %d messages, want %d", got, want)
}

func TestIMAPCopyMoveEdgeCases(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	c := e.login(t, "erika.muster", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	// MOVE into the selected mailbox changes nothing
	if _, err := c.Move(imap.SeqSetNum(1), "INBOX").Wait(); err != nil {
		t.Fatal(err)
	}
	// COPY of UIDs that do not exist copies nothing
	if _, err := c.Copy(imap.UIDSetNum(99), "Archive").Wait(); err != nil {
		t.Fatal(err)
	}
	st, _ := c.Status("Archive", &imap.StatusOptions{NumMessages: true}).Wait()
	sel, _ := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if *st.NumMessages != 0 || *sel.NumMessages != 1 {
		t.Fatalf("archive %d inbox %d", *st.NumMessages, *sel.NumMessages)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
}

// stored drops \Recent (a session flag) from flags.
func stored(flags []imap.Flag) []imap.Flag {
	var out []imap.Flag
	for _, f := range flags {
		if f != `\Recent` {
			out = append(out, f)
		}
	}
	return out
}

// TestIMAPAppendInlineAndFile: a small APPEND is stored inline in the
// database (no blob file, no file fsync), a large one as a blob file; both
// read back byte for byte, and the store's check finds both sound.
func TestIMAPAppendInlineAndFile(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	c := e.login(t, "erika.muster", nil)
	small := "Subject: klein\r\n\r\nhallo\r\n"
	large := "Subject: gross\r\n\r\n" + strings.Repeat("0123456789abcde\r\n", 2000)
	for _, msg := range []string{small, large} {
		ap := c.Append("Sent", int64(len(msg)), nil)
		ap.Write([]byte(msg))
		ap.Close()
		if _, err := ap.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := e.st.CheckBlobs()
	if err != nil || rep.Inline != 1 || rep.Files != 1 || len(rep.Missing)+len(rep.WrongHash)+len(rep.Orphans) > 0 {
		t.Fatalf("check: %+v %v (want 1 inline, 1 file)", rep, err)
	}
	if _, err := c.Select("Sent", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 2 {
		t.Fatal(len(msgs), err)
	}
	for i, want := range []string{small, large} {
		if got := string(msgs[i].FindBodySection(&imap.FetchItemBodySection{Peek: true})); got != want {
			t.Fatalf("message %d: %d bytes back, want %d", i+1, len(got), len(want))
		}
	}
}
