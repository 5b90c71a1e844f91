package carddavd

import (
	"net"
	"net/http"

	"schulhof/internal/auth"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// authenticate checks the request's Basic credentials. A sync is a dozen
// requests, each with the password: a successful login is reused for
// SessionTTL (auth.BasicCache), so auth.Verify (argon2, lock, consent,
// throttling, the login log) runs once per session, not once per request.
// Every request still reads the account: a lock, a new password or a
// withdrawn consent ends the session at once; MODULE-OFF is asked every
// time too (group memberships change).
func (h *Handler) authenticate(r *http.Request) (*store.Account, policy.Decision) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		return nil, policy.Deny(policy.AuthFailed, "Anmeldung erforderlich.")
	}
	acct := h.sessions.Reuse(name, pw, h.opt.Store.Account, stillAllowed, auth.EndLogin)
	if acct == nil {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, d := h.opt.Auth.Verify(r.Context(), auth.Attempt{
			Name: name, Password: pw, Protocol: metrics.CardDAV, IP: ip,
			Service: policy.ServiceContacts, Purpose: policy.PurposeUse,
		})
		if !d.Allow {
			return nil, d
		}
		h.sessions.Put(name, pw, a)
		acct = a
	}
	if d := auth.CheckModule(h.opt.Store, h.opt.Modules, acct, policy.ModuleAddressBook, h.opt.Logger); h.opt.Modules != nil && !d.Allow {
		return nil, d
	}
	return acct, policy.Allowed
}

// stillAllowed: carddavd's rule for a cached login, the same password hash
// and SessionAllowed for contacts now (not davd's field comparison).
func stillAllowed(was, now *store.Account) bool {
	return now.PasswordHash == was.PasswordHash && auth.SessionAllowed(now, policy.ServiceContacts).Allow
}
