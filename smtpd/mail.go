package smtpd

import (
	"time"

	"github.com/emersion/go-smtp"

	"schulhof/policy"
)

// MAIL FROM: authenticated, own address (MAIL-INTERNAL), announced size
// within the account's limit (SIZE-20MB), and one message reserved from
// the hourly budget (MAIL-MASS): the check and the reservation are one
// step in the store, so parallel sessions cannot overrun it. The
// reservation is given back unless the message is delivered.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.account == nil {
		return errNeedAuth
	}
	if d := policy.CheckSender(s.account.Name, s.srv.opt.Domain, from); !d.Allow {
		return s.refuse(d)
	}
	s.size = 0
	if opts != nil && opts.Size > 0 {
		if d := s.srv.opt.Policy.CheckTransfer(opts.Size, s.exceptions(), s.srv.opt.Now()); !d.Allow {
			return s.refuse(d)
		}
		s.size = opts.Size
	}
	s.releaseSlot()
	lim := s.limits()
	slot, used, ok, err := s.srv.opt.Store.ReserveSend(s.account.Name, s.srv.opt.Now(), time.Hour, lim.MessagesPerHour)
	if err != nil {
		return errTemp
	}
	if !ok {
		return s.refuse(lim.CheckRate(used))
	}
	s.slot = slot
	s.from = from
	return nil
}

// releaseSlot ends the session's MAIL-MASS reservation (counted if the
// message was delivered, given back otherwise).
func (s *session) releaseSlot() {
	s.slot.Release()
	s.slot = nil
}
