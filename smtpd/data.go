package smtpd

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"

	"schulhof/internal/links"
	"schulhof/internal/mailmsg"
	"schulhof/policy"
	"schulhof/store"
)

// maxHeaderBytes bounds the header read into memory; the body is
// streamed into its blob.
const maxHeaderBytes = 1 << 20

// DATA: the message is streamed into one blob (fsynced) with a Received
// header and, if missing, Message-ID and Date; it is summarised for IMAP
// and delivered to every recipient in one transaction. 250 is sent only
// after that transaction committed.
func (s *session) Data(r io.Reader) error {
	if s.account == nil {
		return errNeedAuth
	}
	if len(s.rcptAddrs) == 0 {
		return &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "RCPT TO zuerst."}
	}
	limit := s.sizeLimit()
	head, rest, err := s.rewriteHeader(r)
	if err != nil {
		return s.readErr(err, limit)
	}
	// The limit counts what the client sent, not the headers added here.
	pb, err := s.srv.opt.Store.WriteBlob(io.MultiReader(bytes.NewReader(head.added), head.raw, rest), limit+int64(len(head.added)))
	if err != nil {
		return s.readErr(err, limit)
	}
	defer pb.Release()
	if err := s.checkLinks(pb.Hash); err != nil {
		return err
	}
	f, err := s.srv.opt.Store.OpenBlob(pb.Hash)
	if err != nil {
		return errTemp
	}
	sum, err := mailmsg.Parse(f)
	f.Close()
	if err != nil {
		return errTemp
	}
	meta, err := mailmsg.Marshal(sum)
	if err != nil {
		return errTemp
	}
	recips := make([]string, 0, len(s.recipients))
	for n := range s.recipients {
		recips = append(recips, n)
	}
	slices.Sort(recips)
	if _, err := s.srv.opt.Store.Deliver(store.Delivery{
		NewMessage: store.NewMessage{Blob: pb, Meta: meta, Internal: s.srv.opt.Now()},
		Recipients: recips,
	}); err != nil {
		s.srv.log.Error("smtp delivery", "account", s.account.Name, "err", err)
		return errTemp
	}
	s.srv.rate.add(s.account.Name, s.srv.opt.Now())
	s.srv.log.Info("smtp delivered", "from", s.account.Name, "recipients", len(recips), "bytes", pb.Size)
	return nil
}

// checkLinks applies LINK-BLOCK to the links in the message's text and
// HTML parts. A refused message is not kept (its blob is released).
func (s *session) checkLinks(hash string) error {
	blocked, err := s.srv.opt.Store.Blocklist()
	if err != nil {
		return errTemp
	}
	if len(blocked) == 0 {
		return nil
	}
	f, err := s.srv.opt.Store.OpenBlob(hash)
	if err != nil {
		return errTemp
	}
	defer f.Close()
	hosts, err := links.Hosts(f)
	if errors.Is(err, links.ErrLimit) {
		return s.refuse(policy.Deny(policy.LinkBlock, "Die Links dieser Nachricht lassen sich nicht prüfen (zu viele Teile oder Links)."))
	} else if err != nil {
		return errTemp
	}
	if d := policy.CheckLinks(hosts, blocked); !d.Allow {
		return s.refuse(d)
	}
	return nil
}

// readErr maps a failure while reading DATA: too large is SIZE-20MB,
// anything else (the client went away) keeps nothing.
func (s *session) readErr(err error, limit int64) error {
	if errors.Is(err, store.ErrTooLarge) || errors.Is(err, smtp.ErrDataTooLarge) {
		return s.refuse(s.srv.opt.Policy.CheckTransfer(limit+1, s.exceptions(), s.srv.opt.Now()))
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se
	}
	return errTemp
}

// rewriteHeader prepares the fields this server adds: Received always,
// Date and Message-Id when the client's header lacks them.
func (s *session) rewriteHeader(r io.Reader) (*header, io.Reader, error) {
	now := s.srv.opt.Now()
	return prependHeader(r, func(h textproto.Header, parsed bool) textproto.Header {
		var add textproto.Header
		if parsed && h.Get("Date") == "" {
			add.Add("Date", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
		}
		if parsed && h.Get("Message-Id") == "" {
			add.Add("Message-Id", "<"+randomID()+"@"+s.srv.opt.Domain+">")
		}
		add.Add("Received", s.received(now))
		return add
	})
}

// header is the start of a message as it will be stored: added holds the
// new header fields, raw the client's bytes read so far.
type header struct {
	added []byte
	raw   io.Reader
}

// prependHeader reads the client's header (at most maxHeaderBytes) from r
// and asks fields what to put in front of it (parsed is false when no
// header could be read). The message to store is added, then raw, then
// the rest of r: every byte the client sent is kept, in order. A message
// without a parseable header gets an empty line after the added fields.
func prependHeader(r io.Reader, fields func(h textproto.Header, parsed bool) textproto.Header) (*header, io.Reader, error) {
	var consumed bytes.Buffer
	br := bufio.NewReader(io.TeeReader(io.LimitReader(r, maxHeaderBytes), &consumed))
	h, herr := textproto.ReadHeader(br)
	var buf bytes.Buffer
	if err := textproto.WriteHeader(&buf, fields(h, herr == nil)); err != nil {
		return nil, nil, err
	}
	added := bytes.TrimSuffix(buf.Bytes(), []byte("\r\n")) // keep the client's blank line
	if herr != nil {
		added = append(added, '\r', '\n')
	}
	// consumed holds every byte taken from r so far (the header and the
	// reader's read-ahead), in order; r continues after them.
	return &header{added: added, raw: bytes.NewReader(consumed.Bytes())}, r, nil
}

// received is the Received field: who submitted, when. No "for" clause,
// so Bcc recipients stay hidden.
func (s *session) received(now time.Time) string {
	helo := s.conn.Hostname()
	if helo == "" {
		helo = "unknown"
	}
	with := "ESMTPA"
	if _, ok := s.conn.TLSConnectionState(); ok {
		with = "ESMTPSA"
	}
	return "from " + sanitize(helo) + " ([" + s.remoteIP() + "]) by " + s.srv.opt.Hostname +
		" (Schulhof) with " + with + " id " + randomID()[:16] + " (authenticated as " + s.account.Name + "); " +
		now.Format("Mon, 02 Jan 2006 15:04:05 -0700")
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e || r == '(' || r == ')' || r == ';' {
			return '_'
		}
		return r
	}, s)
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
