package imapd

import (
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/store"
)

const sample2 = "From: Zoe <zoe.gross@schule.test>\r\nSubject: Zweite\r\n" +
	"Message-ID: <two@schule.test>\r\n\r\nZweite Nachricht: Hausaufgaben Deutsch\r\n"

// expungeDuring makes the next lookup of messages by a command (FETCH,
// SEARCH, …) be followed by another session's EXPUNGE of uid, committed
// and its blob removed before the command reads any content.
func (e *env) expungeDuring(t *testing.T, mbox uint64, uid uint32) {
	t.Helper()
	var once sync.Once
	hook := func() {
		once.Do(func() {
			if gone, err := e.st.Expunge(mbox, []uint32{uid}, nil); err != nil || len(gone) != 1 {
				t.Errorf("expunge %d: %v %v", uid, gone, err)
			}
		})
	}
	afterLoad.Store(&hook)
	t.Cleanup(func() { afterLoad.Store(nil) })
}

// A message expunged by another session between a reader's lookup and its
// reading of the content: FETCH leaves it out (or gives its content),
// SEARCH answers, COPY and MOVE copy what is left; never a raw error, and
// the session goes on.
func TestIMAPReadersOfConcurrentlyExpungedMessage(t *testing.T) {
	fetches := map[string]*imap.FetchOptions{
		"BODY[]":       {UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}},
		"BODY[1]":      {UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true, Part: []int{1}}}},
		"BODY[TEXT]":   {UID: true, BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierText}}},
		"BINARY[1]":    {UID: true, BinarySection: []*imap.FetchItemBinarySection{{Peek: true, Part: []int{1}}}},
		"BINARY.SIZE":  {UID: true, BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{1}}}},
		"BODY[]<0.10>": {UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: 10}}}},
	}
	setup := func(t *testing.T) (*env, *imapclient.Client, uint64) {
		e := newEnv(t, "Erika Muster")
		e.deliver(t, sample, "erika.muster")
		e.deliver(t, sample2, "erika.muster")
		c := e.login(t, "erika.muster", nil)
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		m, err := e.st.MailboxByName("erika.muster", store.Inbox)
		if err != nil {
			t.Fatal(err)
		}
		return e, c, m.ID
	}
	afterwards := func(t *testing.T, c *imapclient.Client) {
		t.Helper()
		if err := c.Noop().Wait(); err != nil {
			t.Fatalf("session broken afterwards: %v", err)
		}
		if n := c.Mailbox().NumMessages; n != 1 {
			t.Fatalf("client sees %d messages after the EXPUNGE, want 1", n)
		}
	}
	for name, opts := range fetches {
		t.Run("FETCH "+name, func(t *testing.T) {
			e, c, mbox := setup(t)
			e.expungeDuring(t, mbox, 1)
			msgs, err := c.Fetch(imap.SeqSetNum(1, 2), opts).Collect()
			if err != nil {
				t.Fatalf("FETCH of a message expunged meanwhile: %v", err)
			}
			for _, m := range msgs {
				if m.UID == 1 && len(m.BodySection)+len(m.BinarySection)+len(m.BinarySectionSize) == 0 {
					t.Fatalf("message 1 answered without its content: %+v", m)
				}
			}
			if len(msgs) == 0 || msgs[len(msgs)-1].UID != 2 {
				t.Fatalf("message 2 missing: %+v", msgs)
			}
			afterwards(t, c)
		})
	}
	for _, crit := range []imap.SearchCriteria{{Body: []string{"hausaufgaben"}}, {Text: []string{"mathe"}},
		{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "zweite"}}}} {
		t.Run("SEARCH", func(t *testing.T) {
			e, c, mbox := setup(t)
			e.expungeDuring(t, mbox, 1)
			if _, err := c.UIDSearch(&crit, nil).Wait(); err != nil {
				t.Fatalf("SEARCH %+v: %v", crit, err)
			}
			afterwards(t, c)
		})
	}
	for _, move := range []bool{false, true} {
		t.Run(map[bool]string{false: "COPY", true: "MOVE"}[move], func(t *testing.T) {
			e, c, mbox := setup(t)
			if _, err := e.st.Expunge(mbox, []uint32{1}, nil); err != nil {
				t.Fatal(err)
			}
			var err error
			if move {
				_, err = c.Move(imap.UIDSetNum(1, 2), "Archive").Wait()
			} else {
				_, err = c.Copy(imap.UIDSetNum(1, 2), "Archive").Wait()
			}
			if err != nil {
				t.Fatalf("of an expunged and a present message: %v", err)
			}
			st, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true}).Wait()
			if err != nil || *st.NumMessages != 1 {
				t.Fatalf("Archive: %v %v, want the one message left", st, err)
			}
			if err := c.Noop().Wait(); err != nil {
				t.Fatal(err)
			}
			if n, want := c.Mailbox().NumMessages, map[bool]uint32{false: 1, true: 0}[move]; n != want {
				t.Fatalf("INBOX shows %d messages, want %d", n, want)
			}
		})
	}
}
