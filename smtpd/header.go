package smtpd

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"schulhof/policy"
	"schulhof/store"
)

// dataReaders are the buffered readers over DATA, reused: a new 16 KiB
// buffer per message was a tenth of the allocations of a submission.
var dataReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func newHeaderReader(r io.Reader) *bufio.Reader {
	br := dataReaders.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

func putHeaderReader(br *bufio.Reader) {
	br.Reset(nil)
	dataReaders.Put(br)
}

// parseHeader parses a header block read by readHeaderBlock.
func parseHeader(raw []byte) (textproto.Header, error) {
	return textproto.ReadHeader(bufio.NewReaderSize(bytes.NewReader(raw), max(len(raw), 16)))
}

// headerTooBigError: the header grew past the header_bytes bound.
type headerTooBigError struct{ n int64 }

func (e *headerTooBigError) Error() string { return sprintf("message header over %d bytes", e.n) }

// readHeaderBlock reads the client's header up to and including the blank
// line that ends it, at most max bytes. It stops early at the first line
// that is neither a field nor a continuation (the header cannot parse);
// a message that ends inside its header gets the blank line added.
func readHeaderBlock(br *bufio.Reader, max int64) ([]byte, error) {
	var buf []byte
	for {
		start := len(buf)
		for {
			frag, err := br.ReadSlice('\n')
			buf = append(buf, frag...)
			if int64(len(buf)) > max {
				return nil, &headerTooBigError{n: int64(len(buf))}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				if len(buf) > start {
					buf = append(buf, '\r', '\n')
				}
				return append(buf, '\r', '\n'), nil
			}
			if err != nil {
				return nil, err
			}
			break
		}
		line := buf[start:]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return buf, nil // the blank line
		}
		if line[0] != ' ' && line[0] != '\t' && bytes.IndexByte(line, ':') < 0 {
			return buf, nil // not a header field: ReadHeader refuses it
		}
	}
}

// checkHeaderSenders gathers the facts for MAIL-SENDER: every address of
// every From and Sender field (display names, comments and encoded words
// are the parser's business), with the group each one names, if any.
func (s *session) checkHeaderSenders(h textproto.Header) (policy.Decision, error) {
	var senders []policy.HeaderSender
	for _, field := range []string{"From", "Sender"} {
		for f := h.FieldsByKey(field); f.Next(); {
			addrs, err := mail.ParseAddressList(f.Value())
			if err != nil {
				return policy.Deny(policy.MailSender, "Der Absender (%s:) ist nicht lesbar: %q.", field, f.Value()), nil
			}
			for _, a := range addrs {
				hs := policy.HeaderSender{Field: field, Address: a.Address}
				if local, dom, ok := policy.SplitAddress(a.Address); ok && dom == strings.ToLower(s.srv.opt.Domain) && local != s.account.Name {
					g, err := s.srv.opt.Store.Group(local)
					if err == nil {
						hs.Group = &policy.SenderGroup{Name: g.Name, IsTeacher: g.IsTeacher(s.account.Name), IsMember: g.HasMember(s.account.Name)}
					} else if !errors.Is(err, store.ErrNotFound) {
						return policy.Decision{}, err
					}
				}
				senders = append(senders, hs)
			}
		}
	}
	return s.limits().CheckHeaderSenders(s.account.Name, s.srv.opt.Domain, senders), nil
}

// rewriteHeader removes what recipients must not see (Bcc, as Postfix's
// cleanup does) and adds Received, and Date and Message-Id when missing.
// The client's fields keep their bytes.
func (s *session) rewriteHeader(h *textproto.Header) {
	h.Del("Bcc")
	h.Del("Resent-Bcc")
	now := s.srv.opt.Now()
	if !h.Has("Date") {
		h.Add("Date", now.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	}
	if !h.Has("Message-Id") {
		h.Add("Message-Id", "<"+randomID()+"@"+s.srv.opt.Domain+">")
	}
	h.Add("Received", s.received()) // Add puts it first
}

// received is the Received field: by whom, how, which ID, when. No client
// address or HELO name (pupils would learn teachers' home addresses; the
// login log has the IP) and no "for" clause (Bcc recipients stay hidden).
func (s *session) received() string {
	with := "ESMTPA"
	if _, ok := s.conn.TLSConnectionState(); ok {
		with = "ESMTPSA"
	}
	return "by " + s.srv.opt.Hostname + " (Schulhof) with " + with + " id " + randomID()[:16] + "; " +
		s.srv.opt.Now().Format("Mon, 02 Jan 2006 15:04:05 -0700")
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
