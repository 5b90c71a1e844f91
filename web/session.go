package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"

	"schulhof/internal/connlimit"
	"schulhof/store"
)

// Portal sessions: the cookie carries a random 256-bit ID; the store keeps
// its SHA-256 with the account, a CSRF token, and a fingerprint of the
// password hash, so any password change (by the user or an admin) ends
// every session of the account without a list to clean up.

// sessionCookie has the __Host- prefix: Secure, Path=/, no Domain, so no
// other host (or plain-HTTP page) can set it.
const sessionCookie = "__Host-schulhof"

// loginCookie carries the login form's CSRF token before a session exists.
const loginCookie = "__Host-schulhof-login"

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pwFingerprint ties a session to the password it was opened with.
func pwFingerprint(hash string) string {
	h := sha256.Sum256([]byte("schulhof-session\x00" + hash))
	return hex.EncodeToString(h[:8])
}

func setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

// session is a request's valid session and its account.
type session struct {
	ws      *store.WebSession
	account *store.Account
}

// lookup finds the request's valid session: known to the store, within
// its idle and absolute lifetime, its account present, not locked, with
// platform consent and the password it was opened with.
func (p *portal) lookup(r *http.Request) (*session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) != 43 {
		return nil, false
	}
	ws, err := p.st.Session(c.Value)
	if err != nil {
		return nil, false
	}
	a, ok := p.valid(ws)
	if !ok {
		return nil, false
	}
	now := p.now()
	if now.Sub(ws.LastSeen) > time.Minute { // a write per minute, not per request
		p.st.TouchSession(ws.Key, now)
	}
	// The connection has logged in: it no longer counts against its
	// address's cap on connections before login (LIMIT-CONN).
	connlimit.AuthenticatedContext(r.Context())
	return &session{ws: ws, account: a}, true
}

// valid checks a stored session against the clock and its account.
func (p *portal) valid(ws *store.WebSession) (*store.Account, bool) {
	now := p.now()
	if now.Sub(ws.Created) > p.opt.SessionMax || now.Sub(ws.LastSeen) > p.opt.SessionIdle {
		p.st.DeleteSession(ws.Key)
		return nil, false
	}
	a, err := p.st.Account(ws.Account)
	if err != nil || a.Locked || !a.ConsentPlatform || ws.Fingerprint != pwFingerprint(a.PasswordHash) {
		return nil, false
	}
	if a.MustChange && !ws.MustChange {
		return nil, false
	}
	return a, true
}

// validKey is valid for chatd's re-check by stored key.
func (p *portal) validKey(account, key string) bool {
	ws, err := p.st.SessionByKey(key)
	if err != nil || ws.Account != account {
		return false
	}
	_, ok := p.valid(ws)
	return ok
}

// startSession opens a new session for a after a login or a password
// change: always a fresh ID (no fixation), the presented one ends.
func (p *portal) startSession(w http.ResponseWriter, r *http.Request, a *store.Account) (string, error) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.st.DeleteSession(store.SessionKey(c.Value))
	}
	connlimit.AuthenticatedContext(r.Context())
	id := randomID()
	now := p.now()
	ua := r.UserAgent()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	err := p.st.CreateSession(id, store.WebSession{Account: a.Name, CSRF: randomID(), Created: now, LastSeen: now,
		IP: clientIP(r), UserAgent: ua, MustChange: a.MustChange, Fingerprint: pwFingerprint(a.PasswordHash)})
	if err != nil {
		return "", err
	}
	setCookie(w, sessionCookie, id, int(p.opt.SessionMax/time.Second))
	return store.SessionKey(id), nil
}

// csrfOK compares a form's token with the session's in constant time.
func csrfOK(want, got string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// OpenSession opens a portal session for an account without a login, for
// the chat benchmark (`schulhof bench chat`), which sets up thousands of
// accounts at once. It returns the cookie value.
func (s *Server) OpenSession(account string) (string, error) {
	p := s.portal
	a, err := p.st.Account(account)
	if err != nil {
		return "", err
	}
	id, now := randomID(), p.now()
	return id, p.st.CreateSession(id, store.WebSession{Account: a.Name, CSRF: randomID(), Created: now, LastSeen: now,
		IP: "127.0.0.1", UserAgent: "schulhof bench", Fingerprint: pwFingerprint(a.PasswordHash)})
}

// SessionCookie is the name of the portal's session cookie.
const SessionCookie = sessionCookie
