package chatd

import (
	"sync"
	"time"

	"schulhof/policy"
)

// floodControl is a token bucket per account (over all its connections):
// chat_messages_per_minute, with a burst of the same size.
type floodControl struct {
	pol *policy.Engine
	mu  sync.Mutex
	b   map[string]*tokens
}

type tokens struct {
	n    float64
	last time.Time
}

func newFloodControl(p *policy.Engine) *floodControl {
	return &floodControl{pol: p, b: map[string]*tokens{}}
}

// allow takes one token for account, or refuses with LIMIT-FLOOD.
func (f *floodControl) allow(account string, now time.Time) policy.Decision {
	rate := f.pol.Bound(policy.ChatMessagesPerMinute)
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.b[account]
	if t == nil {
		if len(f.b) > 100000 {
			clear(f.b)
		}
		t = &tokens{n: float64(rate), last: now}
		f.b[account] = t
	}
	t.n = min(float64(rate), t.n+now.Sub(t.last).Minutes()*float64(rate))
	t.last = now
	if t.n < 1 {
		// one more than the bound in the minute: the refusal names it
		return f.pol.CheckBound(policy.ChatMessagesPerMinute, rate+1)
	}
	t.n--
	return policy.Allowed
}
