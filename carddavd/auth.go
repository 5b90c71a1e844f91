package carddavd

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net"
	"net/http"
	"sync"
	"time"

	"schulhof/internal/auth"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// authenticate checks the request's Basic credentials. A sync is a dozen
// requests, each with the password: a successful login is reused for
// SessionTTL, so auth.Verify (argon2, lock, consent, throttling, the login
// log) runs once per session, not once per request. Every request still
// reads the account: a lock, a new password or a withdrawn consent ends
// the session at once; MODULE-OFF is asked every time too (group
// memberships change).
func (h *Handler) authenticate(r *http.Request) (*store.Account, policy.Decision) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		return nil, policy.Deny(policy.AuthFailed, "Anmeldung erforderlich.")
	}
	var acct *store.Account
	if name0, hash := h.sessions.get(name, pw); name0 != "" {
		if a, err := h.opt.Store.Account(name0); err == nil && a.PasswordHash == hash &&
			auth.SessionAllowed(a, policy.ServiceContacts).Allow {
			acct = a
		} else {
			h.sessions.drop(name, pw)
		}
	}
	if acct == nil {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, d := h.opt.Auth.Verify(r.Context(), auth.Attempt{
			Name: name, Password: pw, Protocol: metrics.CardDAV, IP: ip,
			Service: policy.ServiceContacts, Purpose: policy.PurposeUse,
		})
		if !d.Allow {
			return nil, d
		}
		h.sessions.put(name, pw, a)
		acct = a
	}
	if d := auth.CheckModule(h.opt.Store, h.opt.Modules, acct, policy.ModuleAddressBook, h.opt.Logger); h.opt.Modules != nil && !d.Allow {
		return nil, d
	}
	return acct, policy.Allowed
}

// sessions remembers successful logins by a keyed hash of name and
// password (never the password itself), with the hash they were checked
// against: a password change ends them.
type sessions struct {
	mu     sync.Mutex
	secret [32]byte
	byKey  map[[32]byte]session
	ttl    time.Duration
	now    func() time.Time
}

type session struct {
	account, hash string
	expires       time.Time
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	s := &sessions{byKey: map[[32]byte]session{}, ttl: ttl, now: now}
	rand.Read(s.secret[:])
	return s
}

func (s *sessions) key(name, pw string) [32]byte {
	m := hmac.New(sha256.New, s.secret[:])
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(pw))
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}

// get returns the account name and password hash of a live session.
func (s *sessions) get(name, pw string) (string, string) {
	k := s.key(name, pw)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byKey[k]
	if !ok || s.now().After(e.expires) {
		delete(s.byKey, k)
		return "", ""
	}
	return e.account, e.hash
}

func (s *sessions) put(name, pw string, a *store.Account) {
	k := s.key(name, pw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byKey) > 10000 { // bounded: expired ones go first
		now := s.now()
		for k, e := range s.byKey {
			if now.After(e.expires) {
				delete(s.byKey, k)
			}
		}
	}
	s.byKey[k] = session{account: a.Name, hash: a.PasswordHash, expires: s.now().Add(s.ttl)}
}

func (s *sessions) drop(name, pw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byKey, s.key(name, pw))
}
