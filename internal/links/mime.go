package links

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/textproto"
	"strings"

	gotextproto "github.com/emersion/go-message/textproto"
)

// The MIME structure is read here rather than by go-message so that a
// damaged header does not end the part: a mail client skips a header line
// without a colon and goes on (Thunderbird does), so a Content-Transfer-
// Encoding after such a line still applies. A message with such a line is
// also scanned raw (walker.malformed), for clients that end the header
// there instead.

// maxHeaderBytes bounds the header of a message or part.
const maxHeaderBytes = 1 << 20

var errHeaderTooBig = errors.New("links: header too large")

// readHeader reads a header from br leniently. skipped reports lines that
// were no header fields (no colon, a bad name, a continuation of nothing).
func readHeader(br *bufio.Reader) (h gotextproto.Header, skipped bool, err error) {
	var key string
	var val strings.Builder
	flush := func() {
		if key != "" {
			h.Add(key, strings.TrimSpace(val.String()))
		}
		key = ""
		val.Reset()
	}
	read := 0
	for {
		line, err := readLine(br, maxHeaderBytes-read)
		read += len(line)
		if err != nil && err != io.EOF {
			return h, skipped, err
		}
		trimmed := bytes.TrimRight(line, "\r\n")
		switch {
		case len(trimmed) == 0 && (len(line) > 0 || err == io.EOF): // the blank line (or the end)
			flush()
			return h, skipped, nil
		case trimmed[0] == ' ' || trimmed[0] == '\t':
			if key == "" {
				skipped = true
			} else {
				val.WriteByte(' ')
				val.Write(bytes.TrimSpace(trimmed))
			}
		default:
			flush()
			k, v, ok := bytes.Cut(trimmed, []byte(":"))
			k = bytes.TrimRight(k, " \t")
			if !ok || !validFieldName(k) {
				skipped = true
				break
			}
			key = textproto.CanonicalMIMEHeaderKey(string(k))
			val.Write(v)
		}
		if err == io.EOF {
			flush()
			return h, skipped, nil
		}
	}
}

// readLine reads one line (with its line end) of at most max bytes.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max {
			return nil, errHeaderTooBig
		}
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

func validFieldName(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// partSplitter reads the parts of a multipart body. A delimiter is a line
// "--boundary" with optional blanks, the last one "--boundary--" (RFC
// 2046 section 5.1.1); the line end before a delimiter stays in the part,
// which does not matter to a scan.
type partSplitter struct {
	br        *bufio.Reader
	dash      []byte // "--boundary"
	lineStart bool
	atDelim   bool // the current part ended at a delimiter
	final     bool // the last delimiter was seen
	eof       bool
	pending   []byte // of the current line, not yet read
	err       error  // a read error (not EOF)
}

func newPartSplitter(r io.Reader, boundary string) *partSplitter {
	return &partSplitter{br: bufio.NewReaderSize(r, 4096), dash: []byte("--" + boundary), lineStart: true}
}

// next skips to the start of the next part (the rest of the current one,
// or the preamble) and reports whether there is one.
func (s *partSplitter) next() bool {
	s.pending = s.pending[:0]
	s.skip()
	if s.final || !s.atDelim {
		return false
	}
	s.atDelim = false
	return true
}

// skip reads up to the next delimiter. Lines that cannot be one are
// jumped over by searching the buffer (a skipped attachment is most of a
// message's bytes).
func (s *partSplitter) skip() {
	nlDash := append([]byte{'\n'}, s.dash...)
	for !s.atDelim && !s.eof {
		if s.lineStart {
			head, _ := s.br.Peek(len(s.dash))
			if len(head) < len(s.dash) || bytes.Equal(head, s.dash) {
				s.line() // perhaps a delimiter, or the end
				continue
			}
			s.lineStart = false
		}
		buf, _ := s.br.Peek(s.br.Buffered())
		if i := bytes.Index(buf, nlDash); i >= 0 {
			s.br.Discard(i + 1)
			s.lineStart = true
			continue
		}
		if keep := len(nlDash) - 1; len(buf) > keep {
			s.lineStart = buf[len(buf)-keep-1] == '\n'
			s.br.Discard(len(buf) - keep)
			continue
		}
		if _, err := s.br.Peek(len(buf) + 1); err != nil {
			s.line() // the last bytes
		}
	}
}

// line reads one line of the current part (or a piece of a long one); at
// a delimiter it returns nil and sets atDelim. The line is valid until the
// next read.
func (s *partSplitter) line() []byte {
	line, err := s.br.ReadSlice('\n')
	if err != nil && err != bufio.ErrBufferFull {
		if err != io.EOF {
			s.err = err
		}
		s.eof = true
	}
	if s.lineStart && bytes.HasPrefix(line, s.dash) {
		rest := bytes.TrimRight(line[len(s.dash):], " \t\r\n")
		if len(rest) == 0 || string(rest) == "--" {
			s.atDelim, s.final = true, len(rest) > 0
			s.lineStart = true
			return nil
		}
	}
	s.lineStart = len(line) > 0 && line[len(line)-1] == '\n'
	return line
}

// Read reads the current part's body up to the next delimiter.
func (s *partSplitter) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.pending) > 0 {
			c := copy(p[n:], s.pending)
			s.pending = s.pending[c:]
			n += c
			continue
		}
		if s.atDelim || s.eof {
			break
		}
		line := s.line()
		c := copy(p[n:], line)
		n += c
		s.pending = append(s.pending[:0], line[c:]...)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}
