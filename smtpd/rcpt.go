package smtpd

import (
	"errors"

	"github.com/emersion/go-smtp"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// RCPT TO: an internal account or a group address the sender may use
// (MAIL-INTERNAL, MAIL-MASS); anything else is refused permanently. With
// SIZE= announced, an address whose account (or, for a group, any member)
// may not receive that size is refused here (SIZE-20MB).
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
	direct := false // the address is the account's own, not a group's
	if a, err := st.Account(local); err == nil {
		// MODULE-OFF: no mail for an account that may not read it.
		if d := s.srv.opt.Auth.Module(a, policy.ModuleMail); !d.Allow {
			return s.refuse(d)
		}
		// CONSENT-*: no mail kept for a person who has not consented.
		// A refusal of the recipient, not of the sender's login: 550 5.7.1.
		if d := policy.CheckReceive(auth.Facts(a)); !d.Allow {
			r := s.refuse(d)
			r.Code, r.EnhancedCode = 550, smtp.EnhancedCode{5, 7, 1}
			return r
		}
		names, direct = []string{a.Name}, true
	} else if !errors.Is(err, store.ErrNotFound) {
		return errTemp
	} else if g, err := st.Group(local); err == nil {
		if d := lim.CheckGroupAddress(g.Name, g.IsTeacher(s.account.Name), g.HasMember(s.account.Name)); !d.Allow {
			return s.refuse(d)
		}
		for _, n := range append(append([]string(nil), g.Members...), g.Teachers...) {
			// MODULE-OFF: members without mail get none through the group.
			if a, err := st.Account(n); err == nil && s.srv.opt.Auth.Module(a, policy.ModuleMail).Allow && policy.CheckReceive(auth.Facts(a)).Allow {
				names = append(names, n)
			}
		}
	} else if errors.Is(err, store.ErrNotFound) {
		return unknownRecipient(to)
	} else {
		return errTemp
	}
	if s.size > 0 {
		if d, err := s.checkRecipientSizes(s.size, names); err != nil {
			return errTemp
		} else if !d.Allow {
			return s.refuse(d)
		}
	}
	if s.recipients == nil {
		s.recipients = map[string]bool{}
	}
	for _, n := range names {
		s.recipients[n] = s.recipients[n] || direct
	}
	s.rcptCount++
	s.rcptAddrs = append(s.rcptAddrs, to)
	return nil
}

// checkRecipientSizes applies SIZE-20MB to a message of size bytes for
// each recipient account with that account's own exceptions: one pupil's
// exception does not carry a large message to classmates without one.
func (s *session) checkRecipientSizes(size int64, names []string) (policy.Decision, error) {
	eng := s.srv.opt.Policy
	if size <= eng.MaxTransferBytes {
		return policy.Allowed, nil // no exception needed: nothing to look up
	}
	rs := make([]policy.RecipientSize, 0, len(names))
	for _, n := range names {
		xs, err := s.srv.opt.Store.Exceptions(n)
		if err != nil {
			return policy.Decision{}, err
		}
		r := policy.RecipientSize{Account: n}
		for _, x := range xs {
			r.Exceptions = append(r.Exceptions, policy.SizeException{Bytes: x.Bytes, Until: x.Until})
		}
		rs = append(rs, r)
	}
	_, d := eng.CheckRecipientSizes(size, rs, s.srv.opt.Now())
	return d, nil
}
