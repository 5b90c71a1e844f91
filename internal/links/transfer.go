package links

import (
	"bytes"
	"io"
	"strings"

	"golang.org/x/text/transform"
)

// The transfer decoders here never fail: a mail client shows what it can
// decode of a damaged part, so the scan must see the same. encoding/base64
// stops at the first stray character and mime/quotedprintable at control
// bytes, lines over 4 KiB and text after a soft break; a link behind such
// a byte would go unchecked while the reader still sees it.

// transferDecoder returns the lenient decoder for a Content-Transfer-Encoding
// value (as normalized by transferEncodings), or nil for identity (7bit,
// 8bit, binary and unknown encodings, which clients show as they are).
func transferDecoder(enc string) transform.Transformer {
	switch enc {
	case "base64":
		return &base64Decoder{}
	case "quoted-printable":
		return &qpDecoder{}
	case "x-uuencode", "uuencode", "x-uue", "uue":
		return uudecoder()
	case "x-yencode":
		return ydecoder()
	}
	return nil
}

// normalizeEncoding reads one Content-Transfer-Encoding value the way
// lenient clients do: case and surrounding space do not matter, and
// anything after the first word (a stray parameter) is ignored.
func normalizeEncoding(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, " \t;(\"'"); i >= 0 {
		v = v[:i]
	}
	return strings.Trim(v, "\"'")
}

// transferReader decodes r leniently (for an attached message's body).
func transferReader(enc string, r io.Reader) io.Reader {
	if t := transferDecoder(enc); t != nil {
		return transform.NewReader(r, t)
	}
	return r
}

// base64Decoder decodes base64 as RFC 2045 section 6.8 asks: characters
// outside the alphabet are ignored. A "=" ends the current quantum and
// decoding goes on after it (some mailers pad every line).
type base64Decoder struct {
	acc   uint32 // sextets collected, high bits first
	count int    // how many (0-3)
}

var base64Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = int8(i)
	}
	return t
}()

func (d *base64Decoder) Reset() { *d = base64Decoder{} }

func (d *base64Decoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		if len(dst)-nDst < 3 {
			return nDst, nSrc, transform.ErrShortDst
		}
		c := src[nSrc]
		nSrc++
		if c == '=' {
			nDst += d.flush(dst[nDst:])
			continue
		}
		v := base64Value[c]
		if v < 0 {
			continue
		}
		d.acc = d.acc<<6 | uint32(v)
		d.count++
		if d.count == 4 {
			dst[nDst], dst[nDst+1], dst[nDst+2] = byte(d.acc>>16), byte(d.acc>>8), byte(d.acc)
			nDst += 3
			d.acc, d.count = 0, 0
		}
	}
	if atEOF {
		if len(dst)-nDst < 3 {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += d.flush(dst[nDst:])
	}
	return nDst, nSrc, nil
}

// flush writes the whole bytes of an incomplete quantum.
func (d *base64Decoder) flush(dst []byte) int {
	n := 0
	switch d.count {
	case 2:
		dst[0] = byte(d.acc >> 4)
		n = 1
	case 3:
		dst[0], dst[1] = byte(d.acc>>10), byte(d.acc>>2)
		n = 2
	}
	d.acc, d.count = 0, 0
	return n
}

// qpDecoder decodes quoted-printable leniently: "=XY" with hex digits of
// either case is a byte, "=" before optional spaces and a line end is a
// soft break, and any other "=" or byte is taken literally.
type qpDecoder struct{}

// maxSoftBreakSpace bounds the blanks looked at between "=" and a line end.
const maxSoftBreakSpace = 256

func (qpDecoder) Reset() {}

func (qpDecoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		if nDst == len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		c := src[nSrc]
		if c != '=' {
			dst[nDst] = c
			nDst++
			nSrc++
			continue
		}
		rest := src[nSrc+1:]
		if len(rest) >= 2 && isHex(rest[0]) && isHex(rest[1]) {
			dst[nDst] = unhex(rest[0])<<4 | unhex(rest[1])
			nDst++
			nSrc += 3
			continue
		}
		// A soft break: "=", blanks, then CRLF or LF (or the end).
		i := 0
		for i < len(rest) && i < maxSoftBreakSpace && (rest[i] == ' ' || rest[i] == '\t') {
			i++
		}
		switch {
		case i < len(rest) && rest[i] == '\n':
			nSrc += 1 + i + 1
			continue
		case i+1 < len(rest) && rest[i] == '\r' && rest[i+1] == '\n':
			nSrc += 1 + i + 2
			continue
		case i == len(rest) && i < maxSoftBreakSpace || i+1 == len(rest) && rest[i] == '\r' || len(rest) == 1 && isHex(rest[0]):
			// Not decidable yet: wait for more input.
			if !atEOF {
				return nDst, nSrc, transform.ErrShortSrc
			}
			if i == len(rest) { // "=" and blanks at the very end: a soft break
				return nDst, len(src), nil
			}
		}
		dst[nDst] = '=' // not an escape: shown as it is
		nDst++
		nSrc++
	}
	return nDst, nSrc, nil
}

// lineDecoder decodes a line-oriented transfer encoding (uuencode, yEnc):
// decode gets each complete line, without its line end. A line longer
// than maxEncodedLine is cut (no encoder writes one).
type lineDecoder struct {
	decode func(line []byte, out []byte) []byte
	out    []byte // decoded, not yet handed out
}

const maxEncodedLine = 1024

func (d *lineDecoder) Reset() { d.out = d.out[:0] }

func (d *lineDecoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for {
		if len(d.out) > 0 {
			n := copy(dst[nDst:], d.out)
			nDst += n
			d.out = d.out[:copy(d.out, d.out[n:])]
			if len(d.out) > 0 {
				return nDst, nSrc, transform.ErrShortDst
			}
		}
		rest := src[nSrc:]
		if len(rest) == 0 {
			return nDst, nSrc, nil
		}
		i := bytes.IndexByte(rest, '\n')
		switch {
		case i >= 0:
			d.out = d.decode(bytes.TrimRight(rest[:i], "\r"), d.out)
			nSrc += i + 1
		case atEOF || len(rest) >= maxEncodedLine:
			take := min(len(rest), maxEncodedLine)
			d.out = d.decode(bytes.TrimRight(rest[:take], "\r"), d.out)
			nSrc += take
		default:
			return nDst, nSrc, transform.ErrShortSrc
		}
	}
}

// uudecoder decodes uuencode ("x-uuencode", which Thunderbird reads):
// lines between "begin …" and "end", each a length character and groups
// of four characters for three bytes.
func uudecoder() transform.Transformer {
	inside := false
	return &lineDecoder{decode: func(line, out []byte) []byte {
		switch {
		case !inside:
			inside = bytes.HasPrefix(line, []byte("begin"))
			return out
		case bytes.Equal(bytes.TrimSpace(line), []byte("end")):
			inside = false
			return out
		case len(line) == 0:
			return out
		}
		n := int((line[0] - ' ') & 63)
		var dec []byte
		for g := line[1:]; len(g) > 0; {
			var q [4]byte
			for j := range q {
				if j < len(g) {
					q[j] = (g[j] - ' ') & 63
				}
			}
			dec = append(dec, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
			g = g[min(4, len(g)):]
		}
		return append(out, dec[:min(n, len(dec))]...)
	}}
}

// ydecoder decodes yEnc ("x-yencode", which Thunderbird reads): between
// "=ybegin" and "=yend" every byte is shifted by 42, "=" escapes one more
// shifted by 64.
func ydecoder() transform.Transformer {
	inside := false
	return &lineDecoder{decode: func(line, out []byte) []byte {
		switch {
		case bytes.HasPrefix(line, []byte("=ybegin")):
			inside = true
			return out
		case bytes.HasPrefix(line, []byte("=yend")):
			inside = false
			return out
		case !inside || bytes.HasPrefix(line, []byte("=ypart")):
			return out
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == '=' && i+1 < len(line) {
				i++
				c = line[i] - 64
			}
			out = append(out, c-42)
		}
		return out
	}}
}
