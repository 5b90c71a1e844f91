package caldavd

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

// authenticate checks the request's Basic credentials like davd does: a
// calendar app sends them with every request, so a successful login is
// reused for SessionTTL (the password goes through auth.Verify with its
// throttling and login log once per session), and every request still
// reads the account, so a lock, a new password or a withdrawn consent
// ends the session at once.
func (h *Handler) authenticate(r *http.Request) (*store.Account, policy.Decision) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		return nil, policy.Deny(policy.AuthFailed, "Anmeldung erforderlich.")
	}
	if a := h.sessions.get(name, pw); a != nil {
		if now, err := h.st.Account(a.Name); err == nil && sameLoginState(a, now) {
			return now, policy.Allowed
		}
		h.sessions.drop(name, pw)
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	a, d := h.opt.Auth.Verify(r.Context(), auth.Attempt{
		Name: name, Password: pw, Protocol: "caldav", IP: ip,
		Service: policy.ServiceCalendar, Purpose: policy.PurposeUse,
	})
	if d.Allow {
		h.sessions.put(name, pw, a)
	}
	return a, d
}

func sameLoginState(a, b *store.Account) bool {
	return a.PasswordHash == b.PasswordHash && a.Locked == b.Locked && a.MustChange == b.MustChange &&
		a.ConsentPlatform == b.ConsentPlatform && a.Role == b.Role
}

// sessions remembers successful logins under a keyed hash of name and
// password, never the password.
type sessions struct {
	mu     sync.Mutex
	secret [32]byte
	byKey  map[[32]byte]session
	ttl    time.Duration
	now    func() time.Time
}

type session struct {
	acct    *store.Account
	expires time.Time
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	s := &sessions{byKey: map[[32]byte]session{}, ttl: ttl, now: now}
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

func (s *sessions) drop(name, pw string) {
	k := s.key(name, pw)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byKey, k)
}
