package imapd

import (
	"github.com/emersion/go-imap/v2"

	"schulhof/policy"
)

// refusal is the one place where a policy decision becomes an IMAP
// response: the text starts with the rule ID, the response code says what
// kind of refusal it is.
func refusal(d policy.Decision) *imap.Error {
	code := imap.ResponseCodeAuthorizationFailed
	switch d.Rule {
	case policy.AuthFailed:
		code = imap.ResponseCodeAuthenticationFailed
	case policy.AuthThrottle:
		code = imap.ResponseCodeUnavailable
	case policy.PWMustChange:
		code = imap.ResponseCodeExpired
	case policy.Size20MB:
		code = imap.ResponseCodeTooBig
	}
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: d.String()}
}

// refuse logs a refusal of the session's account and turns it into the
// response.
func (s *session) refuse(d policy.Decision) *imap.Error {
	s.srv.log.Info("imap refused", "account", s.account, "ip", s.remoteIP(), "rule", d.Rule, "reason", d.Reason)
	return refusal(d)
}
