package auth

import (
	"context"
	"time"
)

// bucket is a token bucket of password checks: each check takes a token
// before the hash is computed, a right password gives it back, tokens
// come back at the per-minute rate, and an empty bucket refuses further
// attempts without checking the password.
type bucket struct {
	tokens  float64
	last    time.Time
	pending int // tokens taken by checks still running (they may come back)
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

// peek is refill without inserting: a name or address never seen is a
// full bucket, and a refused attempt adds nothing to the map (random
// names from a throttled address must not grow it).
func (v *Verifier) peek(key string, now time.Time) *bucket {
	if _, ok := v.throttle[key]; ok {
		return v.refill(key, now)
	}
	return &bucket{tokens: v.limit(key), last: now}
}

// reserve takes a token from the account's and the address's buckets
// before a password is checked, in one step under the lock: of many
// concurrent guesses exactly the limit get checked. When a bucket is empty
// but checks that took its tokens are still running, it waits for them: a
// right password gives its token back, so a mail client opening ten
// connections at once is slowed, never refused. It reports false, taking
// nothing, when a bucket is empty and nothing is pending, or when ctx
// ends while it waits (the client went away). A waiter looks again when a
// check settles and when the next token is due, each time at the current
// time, so tokens that came back meanwhile count.
func (v *Verifier) reserve(ctx context.Context, name, ip string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	ak, ik := accountKey(name), "i:"+ip
	for {
		now := v.opt.Now()
		acct, addr := v.peek(ak, now), v.peek(ik, now)
		if acct.tokens >= 1 && addr.tokens >= 1 {
			acct, addr = v.refill(ak, now), v.refill(ik, now) // now kept
			acct.tokens--
			addr.tokens--
			acct.pending++
			addr.pending++
			break
		}
		if (acct.tokens < 1 && acct.pending == 0) || (addr.tokens < 1 && addr.pending == 0) {
			return false
		}
		settled := v.settled
		timer := time.NewTimer(max(v.untilToken(ak, acct), v.untilToken(ik, addr)))
		v.mu.Unlock()
		select {
		case <-settled:
		case <-timer.C:
		case <-ctx.Done():
		}
		timer.Stop()
		v.mu.Lock()
		if ctx.Err() != nil {
			return false
		}
	}
	if len(v.throttle) > 200000 { // forget full, idle buckets: they carry no state
		for k, b := range v.throttle {
			if b.tokens >= v.limit(k) && b.pending == 0 {
				delete(v.throttle, k)
			}
		}
	}
	return true
}

// untilToken is how long until bucket b of key holds a whole token again
// (0: it does); a millisecond more, so the waiter does not wake just short.
func (v *Verifier) untilToken(key string, b *bucket) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1-b.tokens)/v.limit(key)*float64(time.Minute)) + time.Millisecond
}

// settle ends a check that reserve let through: a right password gives
// the tokens back (only failures count), a wrong one keeps them spent.
// Checks waiting in reserve look again.
func (v *Verifier) settle(name, ip string, right bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.opt.Now()
	for _, k := range []string{accountKey(name), "i:" + ip} {
		b := v.refill(k, now)
		b.pending--
		if right {
			b.tokens = min(v.limit(k), b.tokens+1)
		}
	}
	close(v.settled) // wakes every waiter; the next ones wait on a new one
	v.settled = make(chan struct{})
}

// accountKey is the bucket of a login name. The map key is bounded (a
// typed name may be long); names sharing their first 128 bytes share a
// bucket, which only slows the guesser further.
func accountKey(name string) string {
	if len(name) > 128 {
		name = name[:128]
	}
	return "a:" + name
}
