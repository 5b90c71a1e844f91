package auth

import (
	"net/http"

	"schulhof/policy"
)

// BasicRefusal is the HTTP answer of the Basic-auth daemons (davd, caldavd,
// carddavd) to the two login refusals, so the challenge and the wait are
// the same everywhere: AUTH-FAILED is 401 with the Basic challenge,
// AUTH-THROTTLE 429 with Retry-After. It sets the header and returns the
// status; ok is false for every other rule, which each daemon maps itself.
func BasicRefusal(h http.Header, rule policy.Rule) (status int, ok bool) {
	switch rule {
	case policy.AuthFailed:
		h.Set("WWW-Authenticate", `Basic realm="Schulhof", charset="UTF-8"`)
		return http.StatusUnauthorized, true
	case policy.AuthThrottle:
		h.Set("Retry-After", "60")
		return http.StatusTooManyRequests, true
	}
	return 0, false
}
