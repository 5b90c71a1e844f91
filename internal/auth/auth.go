// Package auth is the one authentication path of every daemon: Verify
// checks the password hash, asks policy whether the account may log in
// (locked, must-change, consent), slows down password guessing per account
// and per address, records every attempt in the login log and keeps a short
// cache of successful verifications so a mail client opening five
// connections does not cost five argon2 runs.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// Options configure a Verifier.
type Options struct {
	Domain string // addresses name@Domain log in as name
	// Failed attempts allowed per minute for one account name and for one
	// client address (a school behind one NAT address needs the latter
	// higher). The burst is the same number.
	FailuresPerAccount int
	FailuresPerIP      int
	// CacheTTL is how long a successful verification is remembered; 0
	// disables the cache.
	CacheTTL time.Duration
	Logger   *slog.Logger
	Now      func() time.Time // tests
	// Modules are the school's [modules] (MODULE-OFF): a login for a
	// service whose module is off for the account is refused. nil: every
	// module is on.
	Modules map[policy.Module]policy.ModuleSetting
	// Metrics counts failed and throttled logins; nil: none.
	Metrics *metrics.Metrics
}

// Verifier is safe for concurrent use.
type Verifier struct {
	st     *store.Store
	opt    Options
	secret []byte

	mu       sync.Mutex
	settled  chan struct{} // closed (under mu) when a throttled check ends (throttle.go)
	cache    map[string]cacheEntry
	throttle map[string]*bucket

	logq *logQueue
}

type cacheEntry struct {
	mac     [32]byte // HMAC of the password under a per-process secret
	phc     string   // the hash it was checked against: a change invalidates
	expires time.Time
}

// New returns a Verifier over a store.
func New(st *store.Store, opt Options) *Verifier {
	if opt.FailuresPerAccount <= 0 {
		opt.FailuresPerAccount = 5
	}
	if opt.FailuresPerIP <= 0 {
		opt.FailuresPerIP = 30
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	v := &Verifier{st: st, opt: opt, secret: secret,
		cache: map[string]cacheEntry{}, throttle: map[string]*bucket{},
		logq: newLogQueue(st, opt.Logger)}
	v.settled = make(chan struct{})
	return v
}

// Attempt describes one login.
type Attempt struct {
	Name     string // as typed: "max.mueller" or "max.mueller@schule.de"
	Password string
	Protocol string // smtp, imap, dav, web, chat
	IP       string
	Service  policy.Service
	Purpose  policy.LoginPurpose
}

// Verify checks one login attempt. It returns the account when the
// password is right and policy allows the login; otherwise a refusal
// naming its rule (AUTH-FAILED, AUTH-THROTTLE, ACCOUNT-LOCKED, …). The
// attempt is recorded in the login log either way.
func (v *Verifier) Verify(ctx context.Context, at Attempt) (*store.Account, policy.Decision) {
	now := v.opt.Now()
	name := v.normalize(at.Name)
	d := v.check(ctx, name, at, now)
	rec := store.LoginRecord{Time: now.UTC(), Account: name, Protocol: at.Protocol, IP: at.IP, OK: d.Allow}
	if !d.Allow {
		rec.Rule = string(d.Rule)
	}
	v.logq.add(rec)
	v.opt.Logger.InfoContext(ctx, "login", "account", name, "protocol", at.Protocol, "ip", at.IP, "ok", d.Allow, "rule", d.Rule)
	v.opt.Metrics.Login(at.Protocol, d)
	if !d.Allow {
		return nil, d
	}
	a, err := v.st.Account(name)
	if err != nil {
		return nil, policy.Deny(policy.AuthFailed, "Anmeldung fehlgeschlagen.")
	}
	return a, d
}

var errWrongPassword = errors.New("wrong password")

func (v *Verifier) check(ctx context.Context, name string, at Attempt, now time.Time) policy.Decision {
	failed := policy.Deny(policy.AuthFailed, "Anmeldung fehlgeschlagen: Name oder Passwort falsch.")
	a, err := v.st.Account(name)
	known := err == nil && len(at.Password) <= 1024
	// The token is taken before the hash, so concurrent guesses cannot all
	// pass a check that would be counted only afterwards. A cached right
	// password takes one too (and gives it back at once): the cache must
	// not answer guesses while the throttle refuses them.
	if !v.reserve(ctx, name, at.IP) {
		return policy.Deny(policy.AuthThrottle, "Zu viele Fehlversuche; bitte in einer Minute erneut versuchen.")
	}
	right := false
	func() {
		// Deferred: a panic in the check must not leave its token pending,
		// or checks waiting in reserve would wait forever.
		defer func() { v.settle(name, at.IP, right) }()
		right = v.checkHash(name, at.Password, a, known, now)
	}()
	if !right {
		return failed
	}
	d := policy.CheckLogin(policy.LoginFacts{
		Locked: a.Locked, LockReason: a.LockReason, MustChange: a.MustChange,
		ConsentPlatform: a.ConsentPlatform, ConsentComms: a.ConsentComms,
	}, at.Service, at.Purpose)
	if m := at.Service.Module(); d.Allow && m != "" {
		d = v.Module(a, m)
	}
	return d
}

// checkHash checks the password against the cache, then the account's
// hash (or a dummy one in the same time, for an unknown name), and
// remembers a right one: checks that waited in reserve behind it find it
// in the cache.
func (v *Verifier) checkHash(name, pw string, a *store.Account, known bool, now time.Time) bool {
	if !known {
		CheckPassword(pw, dummyHash) // same time as a wrong password
		return false
	}
	if v.cached(name, pw, a.PasswordHash, now) {
		return true
	}
	ok, err := CheckPassword(pw, a.PasswordHash)
	if err != nil {
		v.opt.Logger.Error("password hash", "account", name, "err", err)
	}
	if ok {
		v.remember(name, pw, a.PasswordHash, now)
	}
	return ok
}

// normalize maps what a user types to an account name: trimmed, lower
// case, the school's own domain removed.
func (v *Verifier) normalize(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if at := strings.LastIndexByte(name, '@'); at >= 0 {
		if v.opt.Domain != "" && name[at+1:] == strings.ToLower(v.opt.Domain) {
			name = name[:at]
		} else {
			return name // another domain: no such account
		}
	}
	return name // never cut: a cut name could be another account's
}

func (v *Verifier) mac(pw string) [32]byte {
	m := hmac.New(sha256.New, v.secret)
	m.Write([]byte(pw))
	var out [32]byte
	copy(out[:], m.Sum(nil))
	return out
}

func (v *Verifier) cached(name, pw, phc string, now time.Time) bool {
	v.mu.Lock()
	e, ok := v.cache[name]
	v.mu.Unlock()
	if !ok || e.phc != phc || now.After(e.expires) {
		return false
	}
	m := v.mac(pw)
	return hmac.Equal(m[:], e.mac[:])
}

func (v *Verifier) remember(name, pw, phc string, now time.Time) {
	if v.opt.CacheTTL <= 0 {
		return
	}
	e := cacheEntry{mac: v.mac(pw), phc: phc, expires: now.Add(v.opt.CacheTTL)}
	v.mu.Lock()
	v.cache[name] = e
	if len(v.cache) > 100000 {
		for k, old := range v.cache {
			if now.After(old.expires) {
				delete(v.cache, k)
			}
		}
	}
	v.mu.Unlock()
}

// Forget drops an account's cached verification (password change, lock).
// A changed hash invalidates the entry anyway; this frees it at once.
func (v *Verifier) Forget(name string) {
	v.mu.Lock()
	delete(v.cache, name)
	v.mu.Unlock()
}
