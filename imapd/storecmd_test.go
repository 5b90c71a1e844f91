package imapd

import (
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// STORE answers FETCH FLAGS for every message of the set, those it changed
// and those that already had the flags.
func TestIMAPStoreAnswersChangedAndUnchanged(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	for range 3 {
		e.deliver(t, sample, "erika.muster")
	}
	c := e.login(t, "erika.muster", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Store(imap.SeqSetNum(1, 2, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen, "Wichtig"}}, nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d FETCH responses, want 3", len(msgs))
	}
	for _, m := range msgs {
		if !slices.Contains(m.Flags, imap.FlagSeen) || !slices.Contains(m.Flags, "Wichtig") {
			t.Fatalf("message %d: flags %v", m.SeqNum, m.Flags)
		}
	}
	msgs, err = c.Store(imap.SeqSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Collect()
	if err != nil || len(msgs) != 2 || !slices.Contains(msgs[1].Flags, "Wichtig") {
		t.Fatalf("STORE changing nothing: %+v %v", msgs, err)
	}
}
