package smtpd

import (
	"github.com/emersion/go-smtp"

	"schulhof/policy"
)

// MAIL FROM: authenticated, own address (MAIL-INTERNAL), announced size
// within the account's limit (SIZE-20MB), hourly rate (MAIL-MASS).
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.account == nil {
		return errNeedAuth
	}
	if d := policy.CheckSender(s.account.Name, s.srv.opt.Domain, from); !d.Allow {
		return s.refuse(d)
	}
	if opts != nil && opts.Size > 0 {
		if d := s.srv.opt.Policy.CheckTransfer(opts.Size, s.exceptions(), s.srv.opt.Now()); !d.Allow {
			return s.refuse(d)
		}
	}
	if d := s.limits().CheckRate(s.srv.rate.count(s.account.Name, s.srv.opt.Now())); !d.Allow {
		return s.refuse(d)
	}
	s.from = from
	return nil
}
