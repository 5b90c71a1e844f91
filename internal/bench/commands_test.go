package bench

import (
	"bytes"
	"fmt"
	"maps"
	"testing"

	"github.com/emersion/go-imap/v2"
)

type literal struct{ *bytes.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// The table's two clients send the same commands and find the same
// answers: go-imap's client and the line-level one, against one mailbox
// of 40 messages with every third unseen and one subject with a quote.
func TestRunCommandsClientsAgree(t *testing.T) {
	creds := PatternUsers("user%d", 1, 1, `se"cr\et`, "school.test")
	m := newTestMail(t, creds)
	unseen := 0
	for i := range 40 {
		var flags []imap.Flag
		if i%3 != 0 {
			flags = []imap.Flag{imap.FlagSeen}
		} else {
			unseen++
		}
		raw := fmt.Sprintf("From: a@school.test\r\nSubject: Nr %d \"q\"\r\n\r\nText %d\r\n", i, i)
		if _, err := m.users[creds[0].Address].Append("INBOX", literal{bytes.NewReader([]byte(raw))}, &imap.AppendOptions{Flags: flags}); err != nil {
			t.Fatal(err)
		}
	}
	addr := m.serveIMAP(t)
	want := map[string]int{TableCommands[0]: 40, TableCommands[1]: 40, TableCommands[2]: unseen,
		TableCommands[3]: 0, TableCommands[4]: unseen, TableCommands[5]: 0, TableCommands[6]: 0}
	for name, run := range map[string]func(string, TLSMode, bool, Cred, int) (*CommandTimes, error){
		"go-imap": RunCommands, "lines": RunCommandsLines} {
		res, err := run(addr, TLSNone, false, creds[0], 3)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !maps.Equal(res.Checks, want) || res.Messages != 40 {
			t.Errorf("%s: answers %v (%d messages), want %v", name, res.Checks, res.Messages, want)
		}
		for _, cmd := range TableCommands {
			if len(res.Rounds[cmd]) != 3 {
				t.Errorf("%s: %s timed %d times, want 3", name, cmd, len(res.Rounds[cmd]))
			}
		}
	}
}
