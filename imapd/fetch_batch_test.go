package imapd

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A FETCH of many messages writes every response through one encoder and
// one response writer taken up again per message (go-imap patch 15): each
// line must still be exactly one message's, with its own flags, whether
// or not a literal was written in between.
func TestFetchBatchResponsesExact(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	const n = 100 // more than the 32 responses between deadline checks
	for i := range n {
		e.deliver(t, strings.Replace(sample, "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=", fmt.Sprintf("Subject: Nr %d", i+1), 1), "erika.muster")
	}
	r := erikaInbox(t, e.addr)
	r.cmd(`STORE 1:* +FLAGS (\Seen)`)
	r.cmd(`STORE 3:* -FLAGS (\Seen)`)
	r.cmd(`STORE 2:40 +FLAGS (\Flagged $Label1)`)
	want := func(seq int) []string {
		f := []string{`\Recent`} // this session's SELECT claimed them
		if seq < 3 {
			f = append(f, `\Seen`)
		}
		if seq >= 2 && seq <= 40 {
			f = append(f, `\Flagged`, `$Label1`)
		}
		slices.Sort(f)
		return f
	}
	line := regexp.MustCompile(`^\* (\d+) FETCH \(UID (\d+) FLAGS \(([^)]*)\)\)$`)
	for round := range 2 {
		got := r.cmd("UID FETCH 1:* (UID FLAGS)")
		if len(got) != n {
			t.Fatalf("round %d: %d responses, want %d: %q", round, len(got), n, got)
		}
		for i, l := range got {
			m := line.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("response %d: %q", i+1, l)
			}
			seq, _ := strconv.Atoi(m[1])
			uid, _ := strconv.Atoi(m[2])
			flags := strings.Fields(m[3])
			slices.Sort(flags)
			if seq != i+1 || uid != i+1 || !slices.Equal(flags, want(seq)) {
				t.Fatalf("response %d: %q, want seq and UID %d with flags %v", i+1, l, i+1, want(seq))
			}
		}
	}
	// Literals between the lines: every response still starts and ends
	// as one message's.
	got := r.cmd("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)] FLAGS)")
	if len(got) != n {
		t.Fatalf("%d responses with literals, want %d", len(got), n)
	}
	for i, l := range got {
		prefix := fmt.Sprintf("* %d FETCH (UID %d FLAGS (", i+1, i+1)
		if !strings.HasPrefix(l, prefix) || !strings.Contains(l, `) BODY[HEADER.FIELDS ("SUBJECT")] {`) || !strings.HasSuffix(l, "})") {
			t.Fatalf("response %d: %q", i+1, l)
		}
	}
}
