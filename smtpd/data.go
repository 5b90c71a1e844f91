package smtpd

import (
	"bytes"
	"errors"
	"io"
	"slices"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"

	"schulhof/internal/mailmsg"
	"schulhof/policy"
	"schulhof/store"
)

// DATA: the header is read (bounded), checked (MAIL-SENDER) and rewritten
// (Bcc removed; Received, and if missing Date and Message-Id, added); the
// message then flows once through the blob (fsynced), the MIME walk
// (summary and LIMIT-MIME) and the link scan (LINK-BLOCK) together. It is
// delivered to every recipient in one transaction that also records the
// send (MAIL-MASS); 250 is sent only after that transaction committed.
func (s *session) Data(r io.Reader) error {
	if s.account == nil {
		return errNeedAuth
	}
	if len(s.rcptAddrs) == 0 {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "RCPT TO zuerst."}
	}
	defer s.releaseSlot()
	arrived := s.srv.opt.Now()
	limit := s.sizeLimit()
	// The limit counts what the client sent, not the fields added here.
	src := &clientReader{r: r, max: limit}
	br := newHeaderReader(src)
	defer putHeaderReader(br)
	raw, err := readHeaderBlock(br, s.srv.opt.Policy.Bound(policy.HeaderBytes))
	if err != nil {
		return s.readErr(err, limit)
	}
	h, err := parseHeader(raw)
	if err != nil {
		return s.refuse(policy.Deny(policy.MailSender, "Der Kopf der Nachricht ist nicht lesbar; ohne Absender (From:) wird keine Nachricht angenommen."))
	}
	if d, err := s.checkHeaderSenders(h); err != nil {
		return errTemp
	} else if !d.Allow {
		return s.refuse(d)
	}
	s.rewriteHeader(&h)
	var head bytes.Buffer
	if err := textproto.WriteHeader(&head, h); err != nil {
		return errTemp
	}

	blocked, err := s.srv.opt.Store.Blocklist()
	if err != nil {
		return errTemp
	}
	pb, sc, err := s.writeAndScan(io.MultiReader(bytes.NewReader(head.Bytes()), br), len(blocked) > 0)
	if err != nil {
		return s.readErr(err, limit)
	}
	defer pb.Release()
	if d := s.checkScan(sc, blocked); !d.Allow {
		return s.refuse(d)
	}
	recips := s.recipientNames()
	if d, err := s.checkRecipientSizes(src.n, recips); err != nil {
		return errTemp
	} else if !d.Allow {
		return s.refuse(d)
	}
	meta, err := mailmsg.Marshal(sc.sum)
	if err != nil {
		return errTemp
	}
	got, err := s.srv.opt.Store.Deliver(store.Delivery{
		NewMessage: store.NewMessage{Blob: pb, Meta: meta, Internal: s.srv.opt.Now()},
		Recipients: recips,
		Sent:       s.slot,
	})
	if err != nil {
		s.log.Error("smtp delivery", "account", s.account.Name, "err", err)
		return errTemp
	}
	s.log.Info("smtp delivered", "from", s.account.Name, "recipients", len(got), "bytes", pb.Size)
	s.srv.opt.Metrics.Delivered(len(got))
	// Only recipients the sender named herself are reported: a group
	// address was delivered as expanded (RFC 3461 §6.2.7.3), and naming a
	// member deleted since RCPT would tell her who is in the group.
	gone := s.namedDirectly(undelivered(recips, got))
	if len(gone) > 0 && len(got) > 0 {
		// The others have the message: whatever happens to the report,
		// the answer stays 250 (a 4xx would have them get it twice),
		// and its text names the missing recipients as well (dsn.go).
		if err := s.bounce(gone, head.Bytes(), h, arrived); err != nil {
			s.log.Error("smtp delivery report", "account", s.account.Name, "err", err)
		}
	}
	return deliveredReply(got, gone)
}

// undelivered lists the recipients not among got.
func undelivered(recips []string, got []store.Delivered) []string {
	var gone []string
	for _, r := range recips {
		if !slices.ContainsFunc(got, func(d store.Delivered) bool { return d.Account == r }) {
			gone = append(gone, r)
		}
	}
	return gone
}

// namedDirectly keeps the accounts a RCPT named itself.
func (s *session) namedDirectly(names []string) []string {
	var out []string
	for _, n := range names {
		if s.recipients[n] {
			out = append(out, n)
		}
	}
	return out
}

// deliveredReply answers a delivery: plain 250 when every recipient got
// the message; recipients whose account was deleted since RCPT are named
// (the others have the message, the sender a delivery report); when
// nobody was left, 550.
func deliveredReply(got []store.Delivered, gone []string) error {
	if len(got) == 0 {
		if len(gone) == 0 { // only group members, all deleted since RCPT
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
				Message: "Nicht zugestellt: die Empfänger gibt es nicht mehr."}
		}
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: sprintf("Nicht zugestellt: die Konten %v gibt es nicht mehr.", gone)}
	}
	if len(gone) == 0 {
		return nil
	}
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0},
		Message: sprintf("Zugestellt an %d Empfänger; nicht zugestellt an %v: diese Konten gibt es nicht mehr.", len(got), gone)}
}

func (s *session) recipientNames() []string {
	recips := make([]string, 0, len(s.recipients))
	for n := range s.recipients {
		recips = append(recips, n)
	}
	slices.Sort(recips)
	return recips
}

// readErr maps a failure while reading DATA: over the sender's size is
// SIZE-20MB, an over-long line or header LIMIT-HEADER (permanent: a retry
// would fail the same way); anything else (the client went away) keeps
// nothing.
func (s *session) readErr(err error, limit int64) error {
	eng := s.srv.opt.Policy
	var hb *headerTooBigError
	switch {
	case errors.Is(err, errTooLarge), errors.Is(err, store.ErrTooLarge), errors.Is(err, smtp.ErrDataTooLarge):
		return s.refuse(eng.CheckTransfer(limit+1, s.exceptions(), s.srv.opt.Now()))
	case errors.Is(err, smtp.ErrTooLongLine):
		return s.answerAndClose(s.refuse(eng.CheckBound(policy.LineBytes, eng.Bound(policy.LineBytes)+1)), limit)
	case errors.As(err, &hb):
		return s.refuse(eng.CheckBound(policy.HeaderBytes, hb.n))
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	return errTemp
}

// clientReader counts the bytes the client sent and fails with
// errTooLarge past max.
type clientReader struct {
	r   io.Reader
	n   int64
	max int64
}

var errTooLarge = errors.New("message over the sender's size limit")

func (c *clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, errTooLarge
	}
	return n, err
}
