package imapd

import (
	"errors"

	"github.com/emersion/go-imap/v2"

	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// refusal is the one place where a policy decision becomes an IMAP
// response (and is counted for the metrics): the text starts with the
// rule ID, the response code says what kind of refusal it is.
func (srv *Server) refusal(d policy.Decision) *imap.Error {
	srv.opt.Metrics.Refused(metrics.IMAP, d)
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
	default:
		if isBoundRule(d.Rule) {
			code = imap.ResponseCodeLimit
		}
	}
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: d.String()}
}

// isBoundRule reports whether rule guards one of the bounds on user
// input (LIMIT-*): those refusals carry the LIMIT response code (RFC 5530).
func isBoundRule(rule policy.Rule) bool {
	for _, b := range policy.BoundTable {
		if b.Rule == rule {
			return true
		}
	}
	return false
}

// mailBounds maps the store's bounds to the policy's.
var mailBounds = map[store.Limit]policy.BoundKey{
	store.LimitKeywordsPerMailbox:  policy.KeywordsPerMailbox,
	store.LimitKeywordBytes:        policy.KeywordBytes,
	store.LimitMailboxesPerAccount: policy.MailboxesPerAccount,
	store.LimitMailboxNameBytes:    policy.MailboxNameBytes,
}

// mailLimits are the numbers the store checks in its transactions.
func mailLimits(e *policy.Engine) store.MailLimits {
	return store.MailLimits{
		KeywordsPerMailbox:  e.Bound(policy.KeywordsPerMailbox),
		KeywordBytes:        e.Bound(policy.KeywordBytes),
		MailboxesPerAccount: e.Bound(policy.MailboxesPerAccount),
		MailboxNameBytes:    e.Bound(policy.MailboxNameBytes),
	}
}

// storeErr is the package's storeErr with the store's bound refusals
// turned into the policy's decision (rule, number, config key).
func (s *session) storeErr(err error) error {
	var le *store.LimitError
	if errors.As(err, &le) {
		if key, ok := mailBounds[le.Limit]; ok {
			if d := s.srv.opt.Policy.CheckBound(key, le.N); !d.Allow {
				return s.refuse(d)
			}
		}
	}
	return storeErr(err)
}

// refuse logs a refusal of the session's account and turns it into the
// response.
func (s *session) refuse(d policy.Decision) *imap.Error {
	s.log.Info("imap refused", "account", s.account, "ip", s.remoteIP(), "rule", d.Rule, "reason", d.Reason)
	return s.srv.refusal(d)
}
