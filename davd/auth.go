package davd

import (
	"crypto/rand"
	"crypto/sha256"
	"net"
	"net/http"
	"sync"
	"time"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// authenticate checks the request's Basic credentials. A file manager sends
// them with every request (hundreds per folder listing), so a successful
// login is reused for SessionTTL: the password goes through auth.Verify
// (argon2, lock, consent, throttling, the login log) once per session, not
// once per request. Every request still reads the account: a lock, a new
// password, a role or consent change or the deletion ends the session at
// once.
func (h *Handler) authenticate(r *http.Request) (*store.Account, policy.Decision) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		return nil, policy.Deny(policy.AuthFailed, "Anmeldung erforderlich.")
	}
	if a := h.sessions.get(name, pw); a != nil {
		if now, err := h.opt.Store.Account(a.Name); err == nil && sameLoginState(a, now) {
			return now, policy.Allowed
		}
		h.sessions.drop(a.Name)
	}
	// A client opening several connections at once logs in once: the
	// others wait for that verification (argon2 costs ~19 MiB each).
	return h.sessions.once(name, pw, func() (*store.Account, policy.Decision) {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, d := h.opt.Auth.Verify(r.Context(), auth.Attempt{
			Name: name, Password: pw, Protocol: "dav", IP: ip,
			Service: policy.ServiceFiles, Purpose: policy.PurposeUse,
		})
		if d.Allow {
			h.sessions.put(name, pw, a)
		}
		return a, d
	})
}

type flight struct {
	done chan struct{}
	acct *store.Account
	d    policy.Decision
}

// once runs verify for a name and password unless the same verification is
// running already; then it waits for that one's answer.
func (s *sessions) once(name, pw string, verify func() (*store.Account, policy.Decision)) (*store.Account, policy.Decision) {
	k := s.key(name, pw)
	s.mu.Lock()
	if f, ok := s.flights[k]; ok {
		s.mu.Unlock()
		<-f.done
		return f.acct, f.d
	}
	f := &flight{done: make(chan struct{})}
	s.flights[k] = f
	s.mu.Unlock()
	f.acct, f.d = verify()
	s.mu.Lock()
	delete(s.flights, k)
	s.mu.Unlock()
	close(f.done)
	return f.acct, f.d
}

// sameLoginState: nothing changed that Verify decides on.
func sameLoginState(a, b *store.Account) bool {
	return a.PasswordHash == b.PasswordHash && a.Locked == b.Locked && a.MustChange == b.MustChange &&
		a.ConsentPlatform == b.ConsentPlatform && a.ConsentComms == b.ConsentComms && a.Role == b.Role
}

type session struct {
	acct    *store.Account
	expires time.Time
}

// sessions remembers successful logins by a keyed hash of name and
// password (never the password itself).
type sessions struct {
	mu     sync.Mutex
	secret [32]byte
	byKey  map[[32]byte]session
	// flights are verifications running now, by key.
	flights map[[32]byte]*flight
	ttl     time.Duration
	now     func() time.Time
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	s := &sessions{byKey: map[[32]byte]session{}, flights: map[[32]byte]*flight{}, ttl: ttl, now: now}
	rand.Read(s.secret[:])
	return s
}

func (s *sessions) key(name, pw string) [32]byte {
	h := sha256.New()
	h.Write(s.secret[:])
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(pw))
	var k [32]byte
	copy(k[:], h.Sum(nil))
	return k
}

func (s *sessions) get(name, pw string) *store.Account {
	k := s.key(name, pw)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byKey[k]
	if !ok || s.now().After(e.expires) {
		delete(s.byKey, k)
		return nil
	}
	return e.acct
}

func (s *sessions) put(name, pw string, a *store.Account) {
	k := s.key(name, pw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byKey) > 10000 {
		now := s.now()
		for k, e := range s.byKey {
			if now.After(e.expires) {
				delete(s.byKey, k)
			}
		}
	}
	s.byKey[k] = session{acct: a, expires: s.now().Add(s.ttl)}
}

// drop ends every session of an account.
func (s *sessions) drop(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.byKey {
		if e.acct.Name == account {
			delete(s.byKey, k)
		}
	}
}
