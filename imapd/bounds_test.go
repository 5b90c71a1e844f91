package imapd

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"

	"schulhof/policy"
)

// withBounds lowers bounds of the env's server before any session starts.
func (e *env) withBounds(t *testing.T, b map[policy.BoundKey]int64) {
	t.Helper()
	for k, v := range b {
		if err := e.srv.opt.Policy.SetBound(k, v); err != nil {
			t.Fatal(err)
		}
	}
	e.st.SetMailLimits(mailLimits(e.srv.opt.Policy))
}

// wantLimit checks for NO [LIMIT] naming the rule.
func wantLimit(t *testing.T, what string, err error, rule policy.Rule) {
	t.Helper()
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo || ie.Code != imap.ResponseCodeLimit ||
		!strings.HasPrefix(ie.Text, "["+string(rule)+"] ") {
		t.Fatalf("%s: got %v, want NO [LIMIT] [%s] …", what, err, rule)
	}
}

func TestIMAPKeywordBounds(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.withBounds(t, map[policy.BoundKey]int64{policy.KeywordsPerMailbox: 2, policy.KeywordBytes: 8})
	e.deliver(t, sample, "erika.muster")
	c := e.login(t, "erika.muster", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	store := func(flags ...imap.Flag) error {
		return c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close()
	}
	if err := store("$Work", imap.FlagSeen); err != nil {
		t.Fatal(err)
	}
	if err := store("Later", "$work"); err != nil {
		t.Fatal(err)
	}
	wantLimit(t, "STORE of a third keyword", store("Third"), policy.LimitKeywords)
	wantLimit(t, "STORE of a long keyword", store("NineBytes"), policy.LimitKeywords)

	msg := "Subject: x\r\n\r\nx\r\n"
	app := c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{"Third"}})
	app.Write([]byte(msg))
	app.Close()
	_, err := app.Wait()
	wantLimit(t, "APPEND with a third keyword", err, policy.LimitKeywords)
	app = c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{"TooLongKw"}})
	app.Write([]byte(msg))
	app.Close()
	_, err = app.Wait()
	wantLimit(t, "APPEND with a long keyword", err, policy.LimitKeywords)
	if st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait(); err != nil || *st.NumMessages != 1 {
		t.Fatalf("refused APPENDs stored something: %v %v", st, err)
	}
}

// Two sessions adding a new keyword at once, one short of the bound: one
// gets OK, the other NO.
func TestIMAPKeywordBoundConcurrentSessions(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.withBounds(t, map[policy.BoundKey]int64{policy.KeywordsPerMailbox: 3})
	e.deliver(t, sample, "erika.muster")
	var cs []func(imap.Flag) error
	for range 2 {
		c := e.login(t, "erika.muster", nil)
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{"Shared1", "Shared2"}}, nil).Close(); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, func(f imap.Flag) error {
			return c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{f}}, nil).Close()
		})
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, store := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = store(imap.Flag([]string{"Mine", "Yours"}[i])) }()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("want exactly one OK: %v", errs)
	}
	for _, err := range errs {
		if err != nil {
			wantLimit(t, "the second new keyword", err, policy.LimitKeywords)
		}
	}
}

func TestIMAPMailboxBounds(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	if err := e.st.EnsureMailboxes("erika.muster"); err != nil {
		t.Fatal(err)
	}
	boxes, _ := e.st.Mailboxes("erika.muster")
	e.withBounds(t, map[policy.BoundKey]int64{policy.MailboxesPerAccount: int64(len(boxes) + 3), policy.MailboxNameBytes: 10})
	c := e.login(t, "erika.muster", nil)
	for _, name := range []string{"Schule", "Schule/AG", "S"} {
		if err := c.Create(name, nil).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	wantLimit(t, "CREATE over the count", c.Create("Privat", nil).Wait(), policy.LimitMailboxes)
	wantLimit(t, "RENAME INBOX over the count", c.Rename("INBOX", "Alt", nil).Wait(), policy.LimitMailboxes)
	if err := c.Delete("Schule/AG").Wait(); err != nil {
		t.Fatal(err)
	}
	wantLimit(t, "CREATE of a long name", c.Create("Elf-Zeichen", nil).Wait(), policy.LimitMailboxes)
	if err := c.Create("S/AG", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	// Renaming S makes "Schulen/AG" (10 bytes) fine and "Schulhof/AG"
	// (11) too long.
	wantLimit(t, "RENAME making a child's name long", c.Rename("S", "Schulhof", nil).Wait(), policy.LimitMailboxes)
	if err := c.Rename("S", "Schulen", nil).Wait(); err != nil {
		t.Fatal(err)
	}
}
