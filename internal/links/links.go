// Package links finds the hosts that the links in a mail message (or a
// piece of chat text) point to, for the LINK-BLOCK rule. It owns no policy:
// policy.CheckLinks decides; this package only extracts, normalized with
// policy.NormalizeDomain so both sides compare the same form.
//
// Messages are hostile input: the work and memory spent are bounded by
// Limits (MIME depth, number of parts, decoded text bytes, hosts). When a
// limit is hit, Hosts returns ErrLimit together with what it found; the
// caller should refuse such a message rather than pass it unchecked.
package links

import (
	"bufio"
	"errors"
	"io"

	"schulhof/policy"
)

// ErrLimit means a message was too large or too deeply nested to be
// checked completely.
var ErrLimit = errors.New("links: message too complex to check completely")

// Limits bound the work Hosts does on one message.
type Limits struct {
	MaxDepth     int   // nesting of multiparts and attached messages
	MaxParts     int   // MIME parts in total
	MaxTextBytes int64 // decoded text bytes scanned, summed over the views of each part
	MaxHosts     int   // distinct hosts returned
	// MaxCandidateBytes bounds the bytes of distinct host candidates
	// normalized (Unicode mapping costs up to ~0.3 µs a byte).
	MaxCandidateBytes int
}

// DefaultLimits are generous for real mail (a 20 MB message with an
// exception on top) and small enough that a hostile one costs little. The
// MIME structure may be as large as the bounds mime_parts and mime_depth
// let a message be (see LimitsFor).
var DefaultLimits = LimitsFor(policy.NewEngine())

// LimitsFor are DefaultLimits with the MIME bounds in force in e, so that
// a message the daemon accepted is never too complex to check.
func LimitsFor(e *policy.Engine) Limits {
	return Limits{
		MaxDepth: int(e.Bound(policy.MIMEDepth)), MaxParts: int(e.Bound(policy.MIMEParts)),
		MaxTextBytes: 64 << 20, MaxHosts: 10000, MaxCandidateBytes: 1 << 20,
	}
}

// Hosts returns the lower-cased, normalized host names of every link in
// the text/plain and text/html parts of a MIME message, each once, in order
// of appearance. See Limits.Hosts.
func Hosts(msg io.Reader) ([]string, error) { return DefaultLimits.Hosts(msg) }

// Hosts reads msg and returns the hosts of its links, reading every part
// a client would render the way lenient clients decode it:
//
//   - text/plain, text/html and every other text/* subtype (shown as plain
//     text, RFC 2046 section 4.1.4), XHTML, and HTML or .eml files by their
//     name; also a part marked as attachment (a client shows it inline);
//     other parts (PDFs, images) are skipped unread;
//   - transfer encodings decoded without ever stopping: base64 skips
//     characters outside its alphabet (RFC 2045 section 6.8),
//     quoted-printable keeps bad escapes as they are; the encoding's name
//     in any case;
//   - in every charset the part may be shown in: the declared one (UTF-7
//     included), the raw bytes read as UTF-8 or Windows-1252 when it is
//     missing, unknown or not ASCII-compatible, a byte order mark's, an
//     HTML <meta charset>'s;
//   - format=flowed undone (delsp=yes joins a host split by a soft break),
//     next to the lines as they are;
//   - HTML with entities decoded, inline tags not breaking the text, and
//     Outlook's conditional comments (<!--[if mso]>) rendered;
//   - multiparts, digests and attached messages (message/rfc822, also
//     transfer-encoded) followed.
//
// A message whose MIME structure is broken (a multipart that never ends, a
// header that does not parse) is scanned once more as raw text, so that a
// link cannot hide behind a structure the parser gives up on but a lenient
// mail client still shows.
//
// The error is ErrLimit (see Limits) or an error reading msg.
func (l Limits) Hosts(msg io.Reader) ([]string, error) {
	in := &errReader{r: msg}
	set := newHostSet(l)
	w := &walker{limits: l, add: set.add, full: func() bool { return set.full }, budget: l.MaxTextBytes}

	// The raw scan needs the message a second time: a seekable reader (a
	// blob file, a bytes.Reader) is read again, any other is scanned as it
	// is read.
	src := io.Reader(in)
	var raw *rawScanner
	seeker, seekable := msg.(io.ReadSeeker)
	var start int64
	if seekable {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			seekable = false
		}
	}
	if !seekable {
		raw = newRawScanner(l)
		src = io.TeeReader(in, raw)
	}

	var err error
	br := bufio.NewReader(src)
	h, skipped, herr := readHeader(br)
	if herr != nil || skipped {
		w.malformed, w.headerBroken = true, true
	}
	if herr == nil {
		err = w.entity(h, br, 0, false)
	}
	if err == nil && w.malformed && in.err == nil {
		err = w.rawScan(seeker, start, src, raw)
	}
	if in.err != nil {
		return set.list, in.err
	}
	if err == nil && (set.full || w.rawFull) {
		err = ErrLimit
	}
	return set.list, err
}

// rawScan scans the undecoded message for links, for a message whose
// structure is broken: from a seekable reader read again from start, or
// the rest of src that tees into raw.
func (w *walker) rawScan(seeker io.ReadSeeker, start int64, src io.Reader, raw *rawScanner) error {
	if raw == nil {
		if _, err := seeker.Seek(start, io.SeekStart); err != nil {
			return err
		}
		raw = newRawScanner(w.limits)
		src = io.TeeReader(seeker, raw)
	}
	if _, err := io.Copy(io.Discard, src); err != nil {
		return err
	}
	raw.flush()
	w.rawFull = raw.body.full || w.headerBroken && raw.header.full
	hosts := raw.body.list
	if w.headerBroken {
		hosts = append(raw.header.list, hosts...)
	}
	for _, h := range hosts {
		w.add(h)
	}
	return nil
}

// errReader remembers the first error of the underlying reader, so that
// Hosts can tell a failing reader from a malformed message.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// rawScanner scans the undecoded message as it is read, for the fallback:
// the header (up to the first empty line) and the body separately, since
// a header's hosts only count when the header itself could not be parsed.
type rawScanner struct {
	header, body *hostSet
	hs, bs       *scanner
	inBody       bool
	last         [3]byte
	headerBroken bool
	rawFull      bool // the raw scan hit a limit
}

func newRawScanner(l Limits) *rawScanner {
	r := &rawScanner{header: newHostSet(l), body: newHostSet(l)}
	r.hs, r.bs = newScanner(r.header.add), newScanner(r.body.add)
	return r
}

func (r *rawScanner) Write(p []byte) (int, error) {
	n := len(p)
	if !r.inBody {
		for i, c := range p {
			r.last[0], r.last[1], r.last[2] = r.last[1], r.last[2], c
			if c == '\n' && (r.last[1] == '\n' || r.last[1] == '\r' && r.last[0] == '\n') {
				r.hs.Write(p[:i+1])
				r.hs.flush()
				r.inBody = true
				p = p[i+1:]
				break
			}
		}
		if !r.inBody {
			r.hs.Write(p)
			return n, nil
		}
	}
	r.bs.Write(p)
	return n, nil
}

func (r *rawScanner) flush() { r.hs.flush(); r.bs.flush() }
