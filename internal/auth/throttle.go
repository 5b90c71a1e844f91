package auth

import "time"

// bucket is a token bucket of failed attempts: each failure takes a token,
// tokens come back at the per-minute rate, and an empty bucket refuses
// further attempts without checking the password.
type bucket struct {
	tokens float64
	last   time.Time
}

func (v *Verifier) limit(key string) float64 {
	if key[0] == 'i' {
		return float64(v.opt.FailuresPerIP)
	}
	return float64(v.opt.FailuresPerAccount)
}

// refill brings a bucket up to date; called with v.mu held.
func (v *Verifier) refill(key string, now time.Time) *bucket {
	limit := v.limit(key)
	b, ok := v.throttle[key]
	if !ok {
		b = &bucket{tokens: limit, last: now}
		v.throttle[key] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = min(limit, b.tokens+el.Minutes()*limit)
		b.last = now
	}
	return b
}

// allowAttempt reports whether neither the account nor the address has
// used up its failures.
func (v *Verifier) allowAttempt(name, ip string, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.refill("a:"+name, now).tokens >= 1 && v.refill("i:"+ip, now).tokens >= 1
}

// fail takes a token from the account's and the address's buckets.
func (v *Verifier) fail(name, ip string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.refill("a:"+name, now).tokens--
	v.refill("i:"+ip, now).tokens--
	if len(v.throttle) > 200000 { // forget full buckets: they carry no state
		for k, b := range v.throttle {
			if b.tokens >= v.limit(k) {
				delete(v.throttle, k)
			}
		}
	}
}
