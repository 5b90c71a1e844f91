package links

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"schulhof/policy"
)

// HostsInText returns the lower-cased, normalized host names of the links
// in a piece of text (chat, forum, a mail's plain text): URLs with a scheme
// ("https://…", also inside other URLs and percent-encoded in query strings)
// and bare "www." and "ftp." links. Each host appears once, in order of appearance.
func HostsInText(s string) []string {
	set := newHostSet(DefaultLimits)
	scanText([]byte(s), true, set.add)
	return set.list
}

// CheckText is LINK-BLOCK for a piece of text (chat, forum, homework): its
// links' hosts against the blocklist, which is read only when there are links.
func CheckText(text string, blocklist func() ([]string, error)) policy.Decision {
	hosts := HostsInText(text)
	if len(hosts) == 0 {
		return policy.Allowed
	}
	blocked, err := blocklist()
	if err != nil {
		return policy.Deny(policy.LinkBlock, "Die Links lassen sich gerade nicht prüfen; bitte später erneut senden.")
	}
	return policy.CheckLinks(hosts, blocked)
}

// hostSet collects distinct normalized hosts in order, up to max. add
// takes a candidate as found in the text and normalizes it (remembering
// the result: the same link tends to appear many times).
type hostSet struct {
	seen map[string]bool
	norm map[string]string // candidate → normalized ("" for no host)
	list []string
	max  int
	full bool // a host was dropped because a limit was reached
	// budget is what is left of Limits.MaxCandidateBytes.
	budget int
}

func newHostSet(l Limits) *hostSet {
	return &hostSet{seen: map[string]bool{}, norm: map[string]string{}, max: l.MaxHosts, budget: l.MaxCandidateBytes}
}

const maxNormMemo = 4096

func (h *hostSet) add(candidate string) {
	host, known := h.norm[candidate]
	if !known {
		if h.budget < len(candidate) {
			h.full = true
			return
		}
		h.budget -= len(candidate)
		host, _ = policy.NormalizeDomain(candidate)
		if len(h.norm) < maxNormMemo {
			h.norm[candidate] = host
		}
	}
	if host == "" || h.seen[host] {
		return
	}
	if len(h.list) >= h.max {
		h.full = true
		return
	}
	h.seen[host] = true
	h.list = append(h.list, host)
}

const (
	scanChunk = 64 << 10 // text is scanned in pieces of this size
	maxCarry  = 16 << 10 // longest unfinished link carried to the next piece
	tailKeep  = 32       // bytes kept so a "://" or "www." split by a piece boundary is found
)

// scanner scans a stream of text written to it in arbitrary pieces with
// bounded memory: a link cut by a piece boundary is carried over whole.
type scanner struct {
	buf []byte
	add func(string)
}

func newScanner(add func(string)) *scanner { return &scanner{add: add} }

func (s *scanner) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), scanChunk)
		s.buf = append(s.buf, p[:take]...)
		p = p[take:]
		if len(s.buf) >= scanChunk {
			s.process(false)
		}
	}
	return n, nil
}

// flush scans what is left at the end of the stream.
func (s *scanner) flush() {
	s.process(true)
	s.buf = s.buf[:0]
}

func (s *scanner) process(final bool) {
	keep := scanText(s.buf, final, s.add)
	if final {
		return
	}
	if len(s.buf)-keep > maxCarry { // a "link" this long is not one: drop it
		keep = len(s.buf) - tailKeep
		for keep > 0 && !utf8.RuneStart(s.buf[keep]) {
			keep--
		}
	}
	n := copy(s.buf, s.buf[keep:])
	s.buf = s.buf[:n]
}

// scanText reports the hosts of the links in buf. Unless final, a link
// running to the end of buf is not reported; scanText returns the offset
// from which buf must be kept and scanned again with more text appended.
func scanText(buf []byte, final bool, add func(string)) (keep int) {
	keep = len(buf)
	if !final {
		keep = max(0, len(buf)-tailKeep)
		for keep > 0 && !utf8.RuneStart(buf[keep]) {
			keep--
		}
	}
	for i := 0; i < len(buf); i++ {
		switch c := buf[i]; {
		case c == ':' && i+2 < len(buf) && buf[i+1] == '/' && buf[i+2] == '/':
			start := schemeStart(buf, i)
			if start == i {
				continue
			}
			a, end, ok := authority(buf, i+3, final)
			if !ok {
				return min(keep, start)
			}
			addAuthority(buf[a:end], add)
		case c == '%' && i+9 <= len(buf) && bytes.EqualFold(buf[i:i+9], []byte("%3a%2f%2f")):
			// A URL inside a query string: https://redirect/?u=https%3A%2F%2Fevil.example
			start := schemeStart(buf, i)
			if start == i {
				continue
			}
			a, end, ok := authority(buf, i+9, final)
			if !ok {
				return min(keep, start)
			}
			addAuthority(percentDecode(buf[a:end]), add)
		case (c|0x20 == 'w' && i+4 <= len(buf) && bytes.EqualFold(buf[i:i+4], []byte("www.")) ||
			c|0x20 == 'f' && i+4 <= len(buf) && bytes.EqualFold(buf[i:i+4], []byte("ftp."))) && wordStart(buf, i):
			// Bare "www." links, and "ftp." ones, which Thunderbird links too.
			end := i + hostRun(buf[i:], true)
			if end == len(buf) && !final {
				return min(keep, i)
			}
			if end > i+4 { // more than "www." or "ftp."
				addHostRun(buf[i:end], add)
			}
		}
	}
	return keep
}

// schemeStart walks back from the ":" of "://" over a URL scheme and
// returns where it starts (i if there is none). A scheme begins with a
// letter; anything before it ("1http", "xhttp") is not part of it.
func schemeStart(buf []byte, i int) int {
	j := i
	for j > 0 && i-j < 32 && isSchemeChar(buf[j-1]) {
		j--
	}
	for j < i && !isLetter(buf[j]) {
		j++
	}
	return j
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isSchemeChar(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'
}

// asciiClass tells, for ASCII bytes, whether they end a URL authority and
// whether they belong to a host name.
var asciiAuthorityEnd, asciiHost [utf8.RuneSelf]bool

func init() {
	for c := range utf8.RuneSelf {
		asciiAuthorityEnd[c] = c <= ' ' || c == 0x7f || strings.IndexByte("/\\?#<>\"'`", byte(c)) >= 0
		asciiHost[c] = isLetter(byte(c)) || c >= '0' && c <= '9' || strings.IndexByte("-._%", byte(c)) >= 0
	}
}

func isAuthorityEnd(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiAuthorityEnd[r]
	}
	return r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r)
}

// authority returns where the URL authority after "://" begins (browsers
// skip further slashes) and ends. ok is false when it runs to the end of a
// non-final buffer.
func authority(buf []byte, a int, final bool) (start, end int, ok bool) {
	for a < len(buf) && (buf[a] == '/' || buf[a] == '\\') {
		a++
	}
	end = a + authorityLen(buf[a:])
	return a, end, end < len(buf) || final
}

// authorityLen is the length of the authority at the start of b.
func authorityLen(b []byte) int {
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			if asciiAuthorityEnd[c] {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if isAuthorityEnd(r) {
			return i
		}
		i += n
	}
	return len(b)
}

// addAuthority reports the host candidate of a URL authority ("user:pw@host:port").
// With user info it also reports the part before "@" as a host, because a
// reader (and some clients) take "https://school.de@evil.example" for
// school.de while the browser goes to evil.example: checking both is safe.
func addAuthority(auth []byte, add func(string)) {
	auth = bytes.TrimLeft(auth, "/\\")
	auth = auth[:authorityLen(auth)]
	if at := bytes.LastIndexByte(auth, '@'); at >= 0 {
		addHostRun(auth, add)
		auth = auth[at+1:]
	}
	if len(auth) > 0 && auth[0] == '[' { // IPv6 literal
		if end := bytes.IndexByte(auth, ']'); end > 0 {
			add(string(auth[:end+1]))
		}
		return
	}
	addHostRun(auth, add)
}

// hostRun returns the length of the host-name characters at the start of
// b: letters and digits of any script, "-", ".", "_", "%" and the IDNA full
// stops. With ignorables, invisible characters that IDNA drops (soft
// hyphen, zero-width space) do not end the name.
func hostRun(b []byte, ignorables bool) int {
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if !asciiHost[c] {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) ||
			r == '\u3002' || r == '\uff0e' || r == '\uff61' || ignorables && policy.IsIgnorable(r)) {
			return i
		}
		i += n
	}
	return i
}

// addHostRun reports the host name at the start of b. An invisible
// character inside may end the name (to a reader, a mail client's
// linkifier) or vanish (to a browser following the link): both hosts are
// reported.
func addHostRun(b []byte, add func(string)) (n int) {
	strict, lenient := hostRun(b, false), hostRun(b, true)
	addHost(b[:strict], add)
	if lenient != strict {
		addHost(b[:lenient], add)
	}
	return lenient
}

// addHost reports a host candidate. Trailing punctuation ("www.example.com." at the end of a sentence) is
// not part of it.
func addHost(h []byte, add func(string)) {
	if bytes.IndexByte(h, '%') >= 0 {
		h = percentDecode(h)
		h = h[:hostRun(h, true)]
	}
	h = bytes.TrimRight(h, ".-_%")
	if len(h) == 0 {
		return
	}
	add(string(h)) // normalized by hostSet.add
}

// wordStart reports whether a "www." at i begins a word (not "awww.",
// "x.www.", or an address "max@www.…").
func wordStart(buf []byte, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRune(buf[:i])
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_' || r == '@')
}

// percentDecode decodes %XX sequences and leaves malformed ones alone.
func percentDecode(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return out
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}
