package smtpd

import (
	"sync"
	"time"
)

// rateLog remembers when each account sent messages during the last hour
// (MAIL-MASS messages per hour). It lives in memory: a restart forgives.
type rateLog struct {
	mu   sync.Mutex
	sent map[string][]time.Time
}

func newRateLog() *rateLog { return &rateLog{sent: map[string][]time.Time{}} }

// count returns how many messages the account sent in the hour before now.
func (r *rateLog) count(account string, now time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.prune(account, now))
}

func (r *rateLog) add(account string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent[account] = append(r.prune(account, now), now)
}

func (r *rateLog) prune(account string, now time.Time) []time.Time {
	l := r.sent[account]
	cut := 0
	for cut < len(l) && now.Sub(l[cut]) >= time.Hour {
		cut++
	}
	l = l[cut:]
	if len(l) == 0 {
		delete(r.sent, account)
		return nil
	}
	r.sent[account] = l
	return l
}
