package smtpd

import (
	"errors"

	"github.com/emersion/go-smtp"

	"schulhof/policy"
	"schulhof/store"
)

// RCPT TO: an internal account or a group address the sender may use
// (MAIL-INTERNAL, MAIL-MASS); anything else is refused permanently.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.account == nil {
		return errNeedAuth
	}
	if s.from == "" {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "MAIL FROM zuerst."}
	}
	local, d := policy.CheckRecipientDomain(s.srv.opt.Domain, to)
	if !d.Allow {
		return s.refuse(d)
	}
	lim := s.limits()
	if d := lim.CheckRecipientCount(s.rcptCount + 1); !d.Allow {
		return s.refuse(d)
	}
	st := s.srv.opt.Store
	var names []string
	if a, err := st.Account(local); err == nil {
		names = []string{a.Name}
	} else if !errors.Is(err, store.ErrNotFound) {
		return errTemp
	} else if g, err := st.Group(local); err == nil {
		if d := lim.CheckGroupAddress(g.Name, g.IsTeacher(s.account.Name), g.HasMember(s.account.Name)); !d.Allow {
			return s.refuse(d)
		}
		names = append(append(names, g.Members...), g.Teachers...)
	} else if errors.Is(err, store.ErrNotFound) {
		return unknownRecipient(to)
	} else {
		return errTemp
	}
	if s.recipients == nil {
		s.recipients = map[string]bool{}
	}
	for _, n := range names {
		s.recipients[n] = true
	}
	s.rcptCount++
	s.rcptAddrs = append(s.rcptAddrs, to)
	return nil
}
