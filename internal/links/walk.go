package links

import (
	"bufio"
	"io"
	"mime"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/transform"
)

// walker visits the parts of one message. It reads the MIME structure
// itself (go-message's textproto) so that it can decode every part as
// leniently as a mail client: see transfer.go and charset.go.
type walker struct {
	limits    Limits
	add       func(string)
	full      func() bool // a limit on hosts was hit: stop reading
	parts     int
	budget    int64 // text bytes still allowed, summed over every view
	malformed bool  // the structure is broken: scan the raw message too
	// headerBroken: the message header did not parse, so the raw scan
	// counts links in it too.
	headerBroken bool
	rawFull      bool   // the raw scan hit a limit
	copyBuf      []byte // reused by every part
}

// What a client does with a part.
const (
	viewPlain  = 1 << iota // shown as plain text
	viewFlowed             // plain text with format=flowed undone
	viewHTML               // rendered as HTML
)

// partInfo is what the header of a part says about showing it.
type partInfo struct {
	multipart bool // a multipart with a boundary
	boundary  string
	digest    bool // multipart/digest: parts default to message/rfc822
	message   bool // an attached message
	views     int  // viewPlain, viewFlowed, viewHTML
	charsets  []string
	encodings []string // transfer encodings, normalized; empty: none
}

// readPartInfo reads a part's header as lenient clients do: a
// Content-Type whose parameters do not parse still names its type and
// charset, a missing one is text/plain (message/rfc822 in a digest), and
// where a field appears twice every reading counts.
func readPartInfo(h textproto.Header, inDigest bool) partInfo {
	var info partInfo
	types := h.Values("Content-Type")
	if len(types) == 0 {
		types = []string{""}
	}
	for i, v := range types {
		mt, params := parseContentType(v)
		if mt == "" {
			mt = "text/plain"
			if inDigest {
				mt = "message/rfc822"
			}
		}
		top, sub, _ := strings.Cut(mt, "/")
		switch {
		case top == "multipart":
			if b := params["boundary"]; b != "" && i == 0 {
				info.multipart, info.boundary, info.digest = true, b, sub == "digest"
				return info
			}
			info.views |= viewPlain // no boundary: clients show the body as text
		case mt == "message/rfc822" || mt == "message/global" || mt == "message/news":
			info.message = true
		case strings.Contains(sub, "html"):
			info.views |= viewHTML
		case top == "text" || mt == "application/rtf":
			// Unknown text subtypes are shown as plain text (RFC 2046
			// 4.1.4); Outlook shows RTF bodies, whose links are text.
			info.views |= viewPlain
			if strings.EqualFold(params["format"], "flowed") {
				info.views |= viewFlowed
			}
		}
		// A file is opened by its name: an HTML page in the browser, a
		// saved message in the mail client.
		switch attachmentKind(h, params) {
		case "html":
			info.views |= viewHTML
		case "message":
			info.message = true
		}
		if c, ok := params["charset"]; ok && len(info.charsets) < maxCharsetLabels && !contains(info.charsets, c) {
			info.charsets = append(info.charsets, c)
		}
	}
	if info.views != 0 {
		info.message = false // scanned as text, which shows an attached message's text as well
	}
	for _, v := range h.Values("Content-Transfer-Encoding") {
		if e := normalizeEncoding(v); len(info.encodings) < 2 && !contains(info.encodings, e) {
			info.encodings = append(info.encodings, e)
		}
	}
	return info
}

// delsp reports delsp=yes on any Content-Type field.
func delsp(h textproto.Header) bool {
	for _, v := range h.Values("Content-Type") {
		if _, p := parseContentType(v); strings.EqualFold(p["delsp"], "yes") {
			return true
		}
	}
	return false
}

// wordDecoder decodes RFC 2047 file names; unknown charsets are left.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(label string, r io.Reader) (io.Reader, error) {
	if _, enc := lookupCharset(label); enc != nil {
		return transform.NewReader(r, enc.NewDecoder()), nil
	}
	return r, nil
}}

// attachmentKind names what a part is opened as by its file name.
func attachmentKind(h textproto.Header, ctParams map[string]string) string {
	name := ctParams["name"]
	if d := h.Get("Content-Disposition"); d != "" {
		if _, p := parseContentType("x/" + d); p["filename"] != "" {
			name = p["filename"]
		}
	}
	if dec, err := wordDecoder.DecodeHeader(name); err == nil {
		name = dec // "=?utf-8?q?seite.html?="
	}
	switch strings.ToLower(path.Ext(strings.TrimSpace(name))) {
	case ".html", ".htm", ".xhtml", ".shtml", ".mht", ".mhtml":
		return "html"
	case ".eml":
		return "message"
	}
	return ""
}

// parseContentType parses a Content-Type value; where mime.ParseMediaType
// gives up (a stray ";", an unquoted space, a parameter twice) it splits
// the value by hand, first value winning.
func parseContentType(v string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		return mt, params
	}
	parts := strings.Split(v, ";")
	mt = strings.ToLower(strings.TrimSpace(parts[0]))
	if i := strings.IndexAny(mt, " \t"); i >= 0 {
		mt = mt[:i]
	}
	if !strings.Contains(mt, "/") {
		mt = ""
	}
	params = map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		k = strings.TrimSuffix(k, "*") // RFC 2231 without its decoding
		val = strings.Trim(strings.TrimSpace(val), "\"'")
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return mt, params
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// entity scans one part (h read, body after it).
func (w *walker) entity(h textproto.Header, body io.Reader, depth int, inDigest bool) error {
	if depth > 0 { // the message itself is no part
		w.parts++
	}
	if depth > w.limits.MaxDepth || w.parts > w.limits.MaxParts {
		return ErrLimit
	}
	info := readPartInfo(h, inDigest)
	switch {
	case info.multipart:
		sp := newPartSplitter(body, info.boundary)
		n := 0
		for ; sp.next(); n++ {
			br := bufio.NewReaderSize(sp, 512) // small: a message may have thousands of parts
			ph, skipped, err := readHeader(br)
			if err != nil { // a header too large: this part is scanned raw only
				w.malformed = true
				continue
			}
			w.malformed = w.malformed || skipped
			if err := w.entity(ph, br, depth+1, info.digest); err != nil {
				return err
			}
		}
		if n == 0 || !sp.final || sp.err != nil { // no part, no end: the raw scan too
			w.malformed = true
		}
		return nil
	case info.message:
		enc := ""
		if len(info.encodings) > 0 {
			enc = info.encodings[0]
		}
		br := bufio.NewReader(transferReader(enc, body))
		ih, skipped, err := readHeader(br)
		if err != nil {
			w.malformed = true
			return nil
		}
		w.malformed = w.malformed || skipped
		return w.entity(ih, br, depth+1, false)
	case info.views != 0:
		return w.text(h, info, body)
	}
	return nil
}

// text scans a text part in every view a client might show it in, all fed
// from one pass over the part's bytes. Each view's bytes count against the
// budget, so a part declared many ways costs its share.
func (w *walker) text(h textproto.Header, info partInfo, body io.Reader) error {
	encodings := info.encodings
	if len(encodings) == 0 {
		encodings = []string{""}
	}
	var sinks []io.WriteCloser
	for _, enc := range encodings {
		var s io.WriteCloser = &charsetSniffer{w: w, info: info, delsp: delsp(h)}
		if t := transferDecoder(enc); t != nil {
			s = &closeBoth{Writer: transform.NewWriter(s, t), inner: s}
		}
		sinks = append(sinks, s)
	}
	stop := func() bool { return w.full() || w.budget < 0 }
	if w.copyBuf == nil {
		w.copyBuf = make([]byte, 32<<10)
	}
	_, err := io.CopyBuffer(fanOut(sinks), &stopReader{r: body, stop: stop}, w.copyBuf)
	for _, s := range sinks {
		s.Close()
	}
	if w.budget < 0 || w.full() {
		return ErrLimit
	}
	if err != nil { // a cut-off part: what was read is scanned
		w.malformed = true
	}
	return nil
}

// fanOut writes to every sink; sinks never fail.
type fanOut []io.WriteCloser

func (f fanOut) Write(p []byte) (int, error) {
	for _, s := range f {
		s.Write(p)
	}
	return len(p), nil
}

// closeBoth closes a transform.Writer (flushing it) and then the writer
// below it.
type closeBoth struct {
	io.Writer
	inner io.Closer
}

func (c *closeBoth) Close() error {
	if cl, ok := c.Writer.(io.Closer); ok {
		cl.Close()
	}
	return c.inner.Close()
}

// charsetSniffer holds back a part's first bytes until it can tell the
// part's views (a byte order mark, a <meta charset>), then feeds them all.
type charsetSniffer struct {
	w        *walker
	info     partInfo
	delsp    bool
	prefix   []byte
	complete bool             // the prefix is the whole part
	sinks    []io.WriteCloser // nil until decided
}

func (c *charsetSniffer) Write(p []byte) (int, error) {
	n := len(p)
	if c.sinks == nil {
		take := min(len(p), sniffBytes-len(c.prefix))
		c.prefix = append(c.prefix, p[:take]...)
		p = p[take:]
		if len(c.prefix) < sniffBytes {
			return n, nil
		}
		c.decide()
	}
	c.writeAll(p)
	return n, nil
}

func (c *charsetSniffer) Close() error {
	if c.sinks == nil {
		c.complete = true
		c.decide()
	}
	for _, s := range c.sinks {
		s.Close()
	}
	return nil
}

func (c *charsetSniffer) writeAll(p []byte) {
	if len(p) == 0 {
		return
	}
	for _, s := range c.sinks {
		s.Write(p)
	}
}

// decide builds the views from the prefix and feeds the prefix to them.
func (c *charsetSniffer) decide() {
	c.sinks = []io.WriteCloser{}
	for _, v := range charsetViews(c.info.charsets, c.prefix, c.info.views&viewHTML != 0) {
		if _, ok := v.dec.(*fallbackDecoder); ok && c.complete && utf8.Valid(c.prefix) {
			v.dec = nil // the same bytes: no decoder (a short part costs little)
		}
		for _, kind := range []int{viewPlain, viewFlowed, viewHTML} {
			if c.info.views&kind == 0 {
				continue
			}
			var s io.WriteCloser = c.w.viewSink(kind, c.delsp)
			if v.dec != nil {
				s = &closeBoth{Writer: transform.NewWriter(s, v.dec), inner: s}
			}
			c.sinks = append(c.sinks, s)
		}
	}
	c.writeAll(c.prefix)
	c.prefix = nil
}

// viewSink scans decoded text of one kind, counting it against the budget.
func (w *walker) viewSink(kind int, delsp bool) io.WriteCloser {
	switch kind {
	case viewHTML:
		return &budgeted{w: w, s: newPullWriter(func(r io.Reader) error { return scanHTML(r, w.add) })}
	case viewFlowed:
		sc := newScanner(w.add)
		return &budgeted{w: w, s: &flushCloser{Writer: newFlowedWriter(sc, delsp), sc: sc}}
	}
	sc := newScanner(w.add)
	return &budgeted{w: w, s: &flushCloser{Writer: sc, sc: sc}}
}

// flushCloser flushes a text scanner on Close.
type flushCloser struct {
	io.Writer
	sc *scanner
}

func (f *flushCloser) Close() error { f.sc.flush(); return nil }

// budgeted charges what is written to the walker's text budget and drops
// it once the budget is spent (the part then ends with ErrLimit).
type budgeted struct {
	w *walker
	s io.WriteCloser
}

func (b *budgeted) Write(p []byte) (int, error) {
	b.w.budget -= int64(len(p))
	if b.w.budget < 0 || b.w.full() {
		return len(p), nil
	}
	return b.s.Write(p)
}

func (b *budgeted) Close() error { return b.s.Close() }

// stopReader ends a part's scan early once stop reports true.
type stopReader struct {
	r    io.Reader
	stop func() bool
}

func (s *stopReader) Read(p []byte) (int, error) {
	if s.stop() {
		return 0, io.EOF
	}
	return s.r.Read(p)
}
