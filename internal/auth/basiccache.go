package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// BasicCache is the Basic-login session cache of the DAV daemons (davd,
// caldavd, carddavd). Their clients send the password with every request,
// so one login that passed Verify (argon2, lock, consent, throttling, the
// login log) is reused for a TTL instead of being verified again. The
// caller still reads the account on every request (Reuse): what ends a
// session early (a lock, a new password, a withdrawn consent) is the
// daemon's own rule, given to Reuse. Logins are kept under a keyed hash of
// name and password, never the password itself.
type BasicCache struct {
	mu     sync.Mutex
	secret [32]byte
	byKey  map[[32]byte]basicSession
	// flights are verifications running now, by key (Once).
	flights map[[32]byte]*basicFlight
	ttl     time.Duration
	now     func() time.Time
}

type basicSession struct {
	acct    *store.Account // as Verify returned it
	expires time.Time
}

type basicFlight struct {
	done chan struct{}
	acct *store.Account
	d    policy.Decision
}

// NewBasicCache returns an empty cache whose logins live for ttl.
func NewBasicCache(ttl time.Duration, now func() time.Time) *BasicCache {
	c := &BasicCache{byKey: map[[32]byte]basicSession{}, flights: map[[32]byte]*basicFlight{}, ttl: ttl, now: now}
	rand.Read(c.secret[:])
	return c
}

func (c *BasicCache) key(name, pw string) [32]byte {
	m := hmac.New(sha256.New, c.secret[:])
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(pw))
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}

// Get returns the account a live login of name and pw was verified as,
// nil if there is none (or it expired).
func (c *BasicCache) Get(name, pw string) *store.Account {
	k := c.key(name, pw)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[k]
	if !ok || c.now().After(e.expires) {
		delete(c.byKey, k)
		return nil
	}
	return e.acct
}

// Put remembers a login that passed Verify as a.
func (c *BasicCache) Put(name, pw string, a *store.Account) {
	k := c.key(name, pw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byKey) > 10000 { // bounded: expired ones go first
		now := c.now()
		for k, e := range c.byKey {
			if now.After(e.expires) {
				delete(c.byKey, k)
			}
		}
	}
	c.byKey[k] = basicSession{acct: a, expires: c.now().Add(c.ttl)}
}

// Drop ends the one login of name and pw.
func (c *BasicCache) Drop(name, pw string) {
	k := c.key(name, pw)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byKey, k)
}

// DropAccount ends every login of an account.
func (c *BasicCache) DropAccount(account string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.byKey {
		if e.acct.Name == account {
			delete(c.byKey, k)
		}
	}
}

// EndScope says what a failed Reuse ends.
type EndScope int

const (
	// EndLogin ends only the login that was presented.
	EndLogin EndScope = iota
	// EndAccount ends every login of the account (davd: its change feed
	// drops by account too).
	EndAccount
)

// Reuse returns the account of a live login of name and pw as read reads
// it now, if still(was, now) holds between the account it was verified as
// and the one read now. Otherwise (no login, a read error, still false) it
// returns nil; a login that existed is ended as end says, so the caller
// verifies the password again.
func (c *BasicCache) Reuse(name, pw string, read func(name string) (*store.Account, error),
	still func(was, now *store.Account) bool, end EndScope) *store.Account {
	was := c.Get(name, pw)
	if was == nil {
		return nil
	}
	if now, err := read(was.Name); err == nil && still(was, now) {
		return now
	}
	if end == EndAccount {
		c.DropAccount(was.Name)
	} else {
		c.Drop(name, pw)
	}
	return nil
}

// Once runs verify for a name and password unless the same verification
// is running already; then it waits for that one's answer. A client
// opening several connections at once so logs in once (argon2 costs
// ~19 MiB each).
func (c *BasicCache) Once(name, pw string, verify func() (*store.Account, policy.Decision)) (*store.Account, policy.Decision) {
	k := c.key(name, pw)
	c.mu.Lock()
	if f, ok := c.flights[k]; ok {
		c.mu.Unlock()
		<-f.done
		return f.acct, f.d
	}
	f := &basicFlight{done: make(chan struct{})}
	c.flights[k] = f
	c.mu.Unlock()
	f.acct, f.d = verify()
	c.mu.Lock()
	delete(c.flights, k)
	c.mu.Unlock()
	close(f.done)
	return f.acct, f.d
}
