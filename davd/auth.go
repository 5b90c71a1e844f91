package davd

import (
	"net"
	"net/http"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// authenticate checks the request's Basic credentials. A file manager sends
// them with every request (hundreds per folder listing), so a successful
// login is reused for SessionTTL (auth.BasicCache): the password goes
// through auth.Verify (argon2, lock, consent, throttling, the login log)
// once per session, not once per request. Every request still reads the
// account: a lock, a new password, a role or consent change or the
// deletion ends every session of the account at once.
func (h *Handler) authenticate(r *http.Request) (*store.Account, policy.Decision) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		return nil, policy.Deny(policy.AuthFailed, "Anmeldung erforderlich.")
	}
	if a := h.sessions.Reuse(name, pw, h.opt.Store.Account, sameLoginState, auth.EndAccount); a != nil {
		return a, policy.Allowed
	}
	// A client opening several connections at once logs in once: the
	// others wait for that verification (argon2 costs ~19 MiB each).
	return h.sessions.Once(name, pw, func() (*store.Account, policy.Decision) {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		a, d := h.opt.Auth.Verify(r.Context(), auth.Attempt{
			Name: name, Password: pw, Protocol: "dav", IP: ip,
			Service: policy.ServiceFiles, Purpose: policy.PurposeUse,
		})
		if d.Allow {
			h.sessions.Put(name, pw, a)
		}
		return a, d
	})
}

// sameLoginState: nothing changed that Verify decides on.
func sameLoginState(a, b *store.Account) bool {
	return a.PasswordHash == b.PasswordHash && a.Locked == b.Locked && a.MustChange == b.MustChange &&
		a.ConsentPlatform == b.ConsentPlatform && a.ConsentComms == b.ConsentComms && a.Role == b.Role
}
