package smtpd

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/textproto"

	"schulhof/internal/mailmsg"
	"schulhof/internal/texts"
	"schulhof/store"
)

// A DATA that reaches some recipients but not others is answered 250:
// with it the server has taken responsibility for every recipient
// (RFC 5321 §6.1), so for each one it could not deliver to (an account
// deleted between RCPT and DATA) it owes the sender a delivery status
// notification. It is a multipart/report (RFC 3464, RFC 6522): a German
// explanation from the portal's text catalog, the machine-readable
// status per recipient, and the header of the message (not its body: a
// 20 MB attachment is not copied back). It goes straight into the
// sender's INBOX, stored before the 250 is sent.
//
// When nobody got the message the answer is 550 instead and no report is
// made: the sender's client still holds the message and shows the error
// itself; a report as well would be a second notice of the same failure.

// bounce stores the report for the recipients in gone (account names).
func (s *session) bounce(gone []string, head []byte, h textproto.Header, arrived time.Time) error {
	msg := s.dsn(gone, head, h, arrived)
	pb, err := s.srv.opt.Store.WriteContent(bytes.NewReader(msg), -1)
	if err != nil {
		return err
	}
	defer pb.Release()
	sum, err := mailmsg.Parse(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	meta, err := mailmsg.Marshal(sum)
	if err != nil {
		return err
	}
	_, err = s.srv.opt.Store.Deliver(store.Delivery{
		NewMessage: store.NewMessage{Blob: pb, Meta: meta, Internal: s.srv.opt.Now()},
		Recipients: []string{s.account.Name},
	})
	return err
}

// dsn builds the report message.
func (s *session) dsn(gone []string, head []byte, h textproto.Header, arrived time.Time) []byte {
	t := func(key string) string { return texts.Text("de", key) }
	domain, now := s.srv.opt.Domain, s.srv.opt.Now()
	date := func(t time.Time) string { return t.Format(time.RFC1123Z) }
	boundary := "dsn-" + randomID()

	var text strings.Builder
	text.WriteString(t("dsn_intro") + "\n\n")
	for _, r := range gone {
		fmt.Fprintf(&text, "  %s@%s\n    %s\n", r, domain, t("dsn_gone"))
	}
	text.WriteString("\n" + t("dsn_others") + "\n" + t("dsn_headers") + "\n")
	var qp bytes.Buffer
	w := quotedprintable.NewWriter(&qp)
	w.Write([]byte(strings.ReplaceAll(text.String(), "\n", "\r\n")))
	w.Close()

	subject := h.Get("Subject")
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	if d, err := dec.DecodeHeader(subject); err == nil {
		subject = d
	}
	if r := []rune(subject); len(r) > 200 { // the report names the mail, it need not repeat all of it
		subject = string(r[:200]) + "…"
	}
	var m bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&m, "%s: %s\r\n", k, v) }
	hdr("From", mime.QEncoding.Encode("utf-8", t("dsn_from"))+" <MAILER-DAEMON@"+domain+">")
	hdr("To", s.account.Name+"@"+domain)
	// Encoded words on lines of their own: a header line stays under
	// RFC 5322's 998 characters.
	hdr("Subject", strings.ReplaceAll(mime.QEncoding.Encode("utf-8", t("dsn_subject")+subject), "?= =?", "?=\r\n =?"))
	hdr("Date", date(now))
	hdr("Message-ID", "<dsn-"+randomID()+"@"+domain+">")
	if id := h.Get("Message-Id"); id != "" {
		hdr("In-Reply-To", id)
		hdr("References", id)
	}
	hdr("Auto-Submitted", "auto-replied")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/report; report-type=delivery-status; boundary="`+boundary+`"`)
	m.WriteString("\r\n")

	m.WriteString("--" + boundary + "\r\n")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	m.WriteString("\r\n")
	m.Write(qp.Bytes())
	m.WriteString("\r\n--" + boundary + "\r\n")
	hdr("Content-Type", "message/delivery-status")
	m.WriteString("\r\n")
	hdr("Reporting-MTA", "dns; "+s.srv.opt.Hostname)
	hdr("Arrival-Date", date(arrived))
	for _, r := range gone {
		m.WriteString("\r\n")
		hdr("Final-Recipient", "rfc822; "+r+"@"+domain)
		hdr("Action", "failed")
		hdr("Status", "5.1.1")
		hdr("Diagnostic-Code", "smtp; 550 5.1.1 account deleted")
		hdr("Last-Attempt-Date", date(now))
	}
	m.WriteString("\r\n--" + boundary + "\r\n")
	hdr("Content-Type", "text/rfc822-headers")
	m.WriteString("\r\n")
	m.Write(head)
	m.WriteString("\r\n--" + boundary + "--\r\n")
	return m.Bytes()
}
