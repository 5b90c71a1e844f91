package connlimit

import (
	"strings"
	"sync"
	"testing"

	"schulhof/policy"
)

// TestRefusedHook: every LIMIT-CONN refusal reaches Limiter.Refused with
// the listener's protocol (the metrics count them there).
func TestRefusedHook(t *testing.T) {
	l := limiter(t, 1)
	var mu sync.Mutex
	var got []string
	l.Refused = func(p Protocol, d policy.Decision) {
		mu.Lock()
		defer mu.Unlock()
		if p == IMAP {
			got = append(got, "imap "+string(d.Rule))
		}
	}
	ln := listen(t)
	ch := holder(t, l.Listen(ln, IMAP, nil))
	dial(t, ln)
	accepted(t, ch)
	for range 2 {
		if line := refusedLine(t, dial(t, ln)); !strings.Contains(line, "[LIMIT-CONN]") {
			t.Fatalf("over the cap: %q", line)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// refusedLine returned after the refusal was written, and the hook
	// runs before it is: both are counted.
	if len(got) != 2 || got[0] != "imap LIMIT-CONN" || got[1] != "imap LIMIT-CONN" {
		t.Fatalf("hook saw %v, want two imap LIMIT-CONN", got)
	}
}
