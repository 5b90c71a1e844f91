package davd

import (
	"sync"

	"schulhof/policy"
)

// uploads counts the PUTs each account has running (LIMIT-UPLOADS): every
// upload holds up to its SIZE-20MB limit on disk until it ends, before the
// quota can count it, so their number is bounded per account.
type uploads struct {
	mu sync.Mutex
	n  map[string]int64
}

// startUpload takes one of the account's upload slots; release gives it
// back (exactly once).
func (h *Handler) startUpload(account string) (release func(), d policy.Decision) {
	u := &h.uploads
	u.mu.Lock()
	defer u.mu.Unlock()
	if d := h.opt.Policy.CheckBound(policy.UploadsPerAccount, u.n[account]+1); !d.Allow {
		return func() {}, d
	}
	if u.n == nil {
		u.n = map[string]int64{}
	}
	u.n[account]++
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			defer u.mu.Unlock()
			if u.n[account]--; u.n[account] <= 0 {
				delete(u.n, account)
			}
		})
	}, policy.Allowed
}
