package caldavd

import (
	"net"
	"net/http"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// authenticate checks the request's Basic credentials like davd does: a
// calendar app sends them with every request, so a successful login is
// reused for SessionTTL (auth.BasicCache: the password goes through
// auth.Verify with its throttling and login log once per session), and
// every request still reads the account, so a lock, a new password or a
// withdrawn consent ends that login at once. Unlike davd, concurrent
// logins are not joined (no Once) and only the presented login ends.
func (h *Handler) authenticate(r *http.Request) (*store.Account, policy.Decision) {
	name, pw, ok := r.BasicAuth()
	if !ok {
		return nil, policy.Deny(policy.AuthFailed, "Anmeldung erforderlich.")
	}
	if a := h.sessions.Reuse(name, pw, h.st.Account, sameLoginState, auth.EndLogin); a != nil {
		return a, policy.Allowed
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	a, d := h.opt.Auth.Verify(r.Context(), auth.Attempt{
		Name: name, Password: pw, Protocol: "caldav", IP: ip,
		Service: policy.ServiceCalendar, Purpose: policy.PurposeUse,
	})
	if d.Allow {
		h.sessions.Put(name, pw, a)
	}
	return a, d
}

// sameLoginState: unlike davd's, it does not compare ConsentComms (as it
// was before the cache moved to internal/auth).
func sameLoginState(a, b *store.Account) bool {
	return a.PasswordHash == b.PasswordHash && a.Locked == b.Locked && a.MustChange == b.MustChange &&
		a.ConsentPlatform == b.ConsentPlatform && a.Role == b.Role
}
