// Package mailmsg reads, once, what the mail daemons need to know about a
// message: the IMAP envelope, the MIME body structure and the header size.
// smtpd and imapd call Parse before a message is stored; the result is kept
// in the store next to the message so FETCH never parses a body again.
//
// Parsing is forgiving: malformed MIME gives a plain text/plain structure,
// never an error, because a message that was accepted must stay fetchable.
package mailmsg

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// maxDepth bounds nested parts where no Limits are given (BodyText).
const maxDepth = 32

// Limits bound the MIME structure one walk accepts: parts in total and
// nesting of multiparts and attached messages. The daemons pass policy's
// mime_parts and mime_depth; zero fields take DefaultLimits.
type Limits struct {
	Parts int
	Depth int
	// HeaderBytes, if set, bounds the message's top header (bytes).
	HeaderBytes int64
	// PartHeaderBytes, if set, bounds the header of every part below the
	// top (a multipart's part, an attached message's header) the same
	// way: a client parses each of them like the top one.
	PartHeaderBytes int64
}

// DefaultLimits are policy's defaults (Dovecot also stops at 10,000 parts).
var DefaultLimits = Limits{Parts: 10_000, Depth: 50}

// LimitError says which bound a message exceeded: Bound is "parts",
// "depth" or "header", N the count reached (one over the limit, or the
// header's bytes).
type LimitError struct {
	Bound string
	N     int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("mailmsg: MIME %s over the limit (%d)", e.Bound, e.N)
}

// Address is one address of an envelope.
type Address struct {
	Name    string `json:"n,omitempty"`
	Route   string `json:"r,omitempty"` // obsolete source route (RFC 5322 §4.4)
	Mailbox string `json:"m,omitempty"`
	Host    string `json:"h,omitempty"`
}

// Envelope is the IMAP ENVELOPE of a message (RFC 3501 7.4.2).
type Envelope struct {
	Date      time.Time `json:"date,omitzero"`
	Subject   string    `json:"subject,omitempty"`
	From      []Address `json:"from,omitempty"`
	Sender    []Address `json:"sender,omitempty"`
	ReplyTo   []Address `json:"reply_to,omitempty"`
	To        []Address `json:"to,omitempty"`
	Cc        []Address `json:"cc,omitempty"`
	Bcc       []Address `json:"bcc,omitempty"`
	InReplyTo []string  `json:"in_reply_to,omitempty"`
	MessageID string    `json:"message_id,omitempty"`
}

// Part is one node of the MIME tree (IMAP BODYSTRUCTURE).
type Part struct {
	Type        string            `json:"type"`
	Subtype     string            `json:"subtype"`
	Params      map[string]string `json:"params,omitempty"`
	ID          string            `json:"id,omitempty"`
	Description string            `json:"desc,omitempty"`
	Encoding    string            `json:"enc,omitempty"`
	Size        int64             `json:"size"`  // body octets
	Lines       int64             `json:"lines"` // body lines
	Disposition string            `json:"disp,omitempty"`
	DispParams  map[string]string `json:"disp_params,omitempty"`
	Language    []string          `json:"lang,omitempty"`
	Location    string            `json:"loc,omitempty"`
	Children    []*Part           `json:"children,omitempty"` // multipart/*
	// message/rfc822 only: the enclosed message.
	Envelope *Envelope `json:"envelope,omitempty"`
	Message  *Part     `json:"message,omitempty"`
}

// Multipart reports whether the part is a multipart container.
func (p *Part) Multipart() bool { return p.Type == "multipart" }

// Summary is everything computed once per message.
type Summary struct {
	Envelope   Envelope `json:"envelope"`
	Body       *Part    `json:"body"`
	HeaderSize int64    `json:"header_size"`
	Size       int64    `json:"size"`
}

// Parse reads a whole message and summarises it within DefaultLimits. It
// fails only when r fails; malformed content is summarised as well as it
// can be, and a structure over the limits is summarised up to them.
func Parse(r io.Reader) (*Summary, error) {
	s, err := ParseLimited(r, DefaultLimits)
	var le *LimitError
	if errors.As(err, &le) {
		return s, nil
	}
	return s, err
}

// ParseLimited is Parse that reports a structure over lim as a
// *LimitError (with the summary up to the limit). The walk keeps one Part
// per part up to lim.Parts and nothing per part beyond it: the rest of the
// message is only counted, so a million empty parts cost what ten
// thousand do.
func ParseLimited(r io.Reader, lim Limits) (*Summary, error) {
	if lim.Parts <= 0 {
		lim.Parts = DefaultLimits.Parts
	}
	if lim.Depth <= 0 {
		lim.Depth = DefaultLimits.Depth
	}
	w := &walk{lim: lim}
	cr := &countReader{r: r}
	br := bufio.NewReader(cr)
	hc := &countReader{r: br}
	hbr := bufio.NewReaderSize(hc, 4096)
	h, herr := textproto.ReadHeader(hbr)
	headerSize := hc.n - int64(hbr.Buffered())
	s := &Summary{HeaderSize: headerSize}
	if herr != nil {
		// No parseable header: everything is body text.
		h = textproto.Header{}
		s.HeaderSize = 0
		s.Body = &Part{Type: "text", Subtype: "plain", Params: map[string]string{"charset": "us-ascii"}}
		s.Envelope = Envelope{}
		n, lines := countBody(hbr)
		if cr.err != nil {
			return nil, cr.err
		}
		s.Body.Size, s.Body.Lines = n+headerSize, lines
		s.Size = n + headerSize
		return s, nil
	}
	if lim.HeaderBytes > 0 && headerSize > lim.HeaderBytes {
		w.over = &LimitError{Bound: "header", N: int(headerSize)}
	}
	s.Envelope = ExtractEnvelope(h)
	w.parts = 1
	s.Body = w.part(h, hbr, 0)
	io.Copy(io.Discard, hbr)
	if cr.err != nil {
		return nil, cr.err // the source failed: the summary would be wrong
	}
	s.Size = cr.n
	if w.over != nil {
		return s, w.over
	}
	return s, nil
}

// walk is one bounded walk over a message's parts.
type walk struct {
	lim   Limits
	parts int         // parts seen so far
	over  *LimitError // the first bound exceeded; the walk stops descending
}

// ExtractEnvelope builds the envelope from a header.
func ExtractEnvelope(h textproto.Header) Envelope {
	mh := mail.Header{Header: gomessage.Header{Header: h}}
	date, _ := mh.Date()
	subject, err := mh.Subject()
	if err != nil {
		subject = h.Get("Subject")
	}
	inReplyTo, _ := mh.MsgIDList("In-Reply-To")
	messageID, _ := mh.MessageID()
	return Envelope{
		Date:      date,
		Subject:   subject,
		From:      addressList(mh, "From"),
		Sender:    addressList(mh, "Sender"),
		ReplyTo:   addressList(mh, "Reply-To"),
		To:        addressList(mh, "To"),
		Cc:        addressList(mh, "Cc"),
		Bcc:       addressList(mh, "Bcc"),
		InReplyTo: inReplyTo,
		MessageID: messageID,
	}
}

func addressList(mh mail.Header, key string) []Address {
	return ParseAddressList(mh.Get(key))
}

// part reads one part's body from r (its header already read) and
// returns its structure. It consumes r up to the part's end; broken MIME
// ends the part where the reader gives up. Once a bound is exceeded no
// further part is opened.
func (w *walk) part(raw textproto.Header, r io.Reader, depth int) *Part {
	if max := w.lim.PartHeaderBytes; depth > 0 && max > 0 && w.over == nil {
		if n := headerBytes(raw); n > max {
			w.over = &LimitError{Bound: "header", N: int(n)}
		}
	}
	h := gomessage.Header{Header: raw}
	mediaType, params, err := h.ContentType()
	if err != nil || mediaType == "" || !strings.Contains(mediaType, "/") {
		mediaType, params = "text/plain", map[string]string{"charset": "us-ascii"}
	}
	typ, sub, _ := strings.Cut(strings.ToLower(mediaType), "/")
	p := &Part{
		Type: typ, Subtype: sub, Params: params,
		ID:          raw.Get("Content-Id"),
		Description: raw.Get("Content-Description"),
		Encoding:    strings.ToLower(strings.TrimSpace(raw.Get("Content-Transfer-Encoding"))),
		Location:    raw.Get("Content-Location"),
	}
	if disp, dp, err := h.ContentDisposition(); err == nil && disp != "" {
		p.Disposition, p.DispParams = disp, dp
	}
	if lang := raw.Get("Content-Language"); lang != "" {
		for _, l := range strings.Split(lang, ",") {
			if l = strings.TrimSpace(l); l != "" {
				p.Language = append(p.Language, l)
			}
		}
	}
	container := typ == "multipart" && params["boundary"] != "" ||
		typ == "message" && (sub == "rfc822" || sub == "global")
	if container && w.over == nil && depth+1 > w.lim.Depth {
		w.over = &LimitError{Bound: "depth", N: depth + 1}
	}
	open := container && w.over == nil
	if typ == "multipart" && params["boundary"] != "" && open {
		cr := &countReader{r: r}
		mr := textproto.NewMultipartReader(cr, params["boundary"])
		for w.over == nil {
			part, err := mr.NextPart()
			if err != nil {
				break // io.EOF or malformed: keep what was found
			}
			if w.parts++; w.parts > w.lim.Parts {
				w.over = &LimitError{Bound: "parts", N: w.parts}
				break
			}
			p.Children = append(p.Children, w.part(part.Header, part, depth+1))
		}
		io.Copy(io.Discard, cr)
		p.Size = cr.n
		if len(p.Children) == 0 {
			// A multipart without parts is not representable in IMAP.
			p.Type, p.Subtype, p.Params = "text", "plain", map[string]string{"charset": "us-ascii"}
		}
		return p
	}
	if typ == "multipart" {
		p.Type, p.Subtype, p.Params = "text", "plain", map[string]string{"charset": "us-ascii"}
	}
	if typ == "message" && (sub == "rfc822" || sub == "global") && open {
		lc := &lineCounter{}
		tee := io.TeeReader(r, lc)
		br := bufio.NewReader(tee)
		ch, err := textproto.ReadHeader(br)
		if err == nil {
			env := ExtractEnvelope(ch)
			p.Envelope = &env
			if w.parts++; w.parts > w.lim.Parts {
				w.over = &LimitError{Bound: "parts", N: w.parts}
			} else {
				p.Message = w.part(ch, br, depth+1)
			}
		}
		io.Copy(io.Discard, br)
		p.Size, p.Lines = lc.n, lc.lines
		if p.Message == nil {
			p.Type, p.Subtype = "application", "octet-stream"
		}
		return p
	}
	p.Size, p.Lines = countBody(r)
	return p
}

// headerBytes is the size of a parsed header as it was sent: its fields'
// raw bytes (folded lines and line ends included) and the blank line.
// The message's size bounds what the parser held meanwhile.
func headerBytes(h textproto.Header) int64 {
	n := int64(2)
	for f := h.Fields(); f.Next(); {
		if b, err := f.Raw(); err == nil {
			n += int64(len(b))
		}
	}
	return n
}

// countBody counts a body's bytes and lines up to its end or the first
// error (broken MIME), through one pooled buffer (io.Copy would allocate
// 32 KiB per part).
func countBody(r io.Reader) (int64, int64) {
	lc := &lineCounter{}
	bp := copyBufs.Get().(*[]byte)
	io.CopyBuffer(lc, r, *bp)
	copyBufs.Put(bp)
	return lc.n, lc.lines
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

type countReader struct {
	r   io.Reader
	n   int64
	err error // the first error other than io.EOF
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

type lineCounter struct{ n, lines int64 }

func (l *lineCounter) Write(p []byte) (int, error) {
	l.n += int64(len(p))
	l.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// Marshal encodes a summary for the store.
func Marshal(s *Summary) ([]byte, error) { return json.Marshal(s) }

// Unmarshal decodes what Marshal wrote.
func Unmarshal(b []byte) (*Summary, error) {
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
