package links

import (
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// utf7 decodes UTF-7 (RFC 2152), which Outlook and Thunderbird still show
// and x/text does not have: "+" starts base64 of UTF-16 (without padding),
// which ends at the first character outside the base64 alphabet; a "-"
// there is absorbed, and "+-" is a plain "+". Broken input decodes to
// U+FFFD, never to an error.
var utf7 encoding.Encoding = utf7Encoding{}

type utf7Encoding struct{}

func (utf7Encoding) NewDecoder() *encoding.Decoder {
	return &encoding.Decoder{Transformer: &utf7Decoder{}}
}

// NewEncoder is not needed: links are only read.
func (utf7Encoding) NewEncoder() *encoding.Encoder {
	return &encoding.Encoder{Transformer: transform.Nop}
}

type utf7Decoder struct {
	shifted bool   // inside a "+…" run
	first   bool   // right after the "+"
	bits    uint32 // base64 bits not yet a UTF-16 unit
	nbits   int
	high    rune // a high surrogate waiting for its low half
}

func (d *utf7Decoder) Reset() { *d = utf7Decoder{} }

func (d *utf7Decoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		if len(dst)-nDst < 2*utf8.UTFMax {
			return nDst, nSrc, transform.ErrShortDst
		}
		c := src[nSrc]
		if !d.shifted {
			nSrc++
			if c == '+' {
				d.shifted, d.first = true, true
				continue
			}
			nDst += putDirect(dst[nDst:], c)
			continue
		}
		if v := base64Value[c]; v >= 0 {
			nSrc++
			d.first = false
			d.bits = d.bits<<6 | uint32(v)
			d.nbits += 6
			if d.nbits >= 16 {
				d.nbits -= 16
				nDst += d.unit(dst[nDst:], rune(d.bits>>d.nbits&0xffff))
				d.bits &= 1<<d.nbits - 1
			}
			continue
		}
		// The run ends.
		nSrc++
		first := d.first
		nDst += d.end(dst[nDst:])
		if first && c == '-' { // "+-"
			dst[nDst] = '+'
			nDst++
		} else if c != '-' {
			nDst += putDirect(dst[nDst:], c)
		}
	}
	if atEOF && d.shifted {
		if len(dst)-nDst < utf8.UTFMax {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += d.end(dst[nDst:])
	}
	return nDst, nSrc, nil
}

// unit writes one UTF-16 code unit, pairing surrogates.
func (d *utf7Decoder) unit(dst []byte, u rune) int {
	n := 0
	if d.high != 0 {
		if utf16.IsSurrogate(u) && u >= 0xdc00 {
			r := utf16.DecodeRune(d.high, u)
			d.high = 0
			return utf8.EncodeRune(dst, r)
		}
		n = utf8.EncodeRune(dst, utf8.RuneError)
		d.high = 0
	}
	if u >= 0xd800 && u < 0xdc00 {
		d.high = u
		return n
	}
	if utf16.IsSurrogate(u) {
		u = utf8.RuneError
	}
	return n + utf8.EncodeRune(dst[n:], u)
}

// end closes a base64 run; an unpaired surrogate is U+FFFD.
func (d *utf7Decoder) end(dst []byte) int {
	n := 0
	if d.high != 0 {
		n = utf8.EncodeRune(dst, utf8.RuneError)
	}
	d.shifted, d.first, d.bits, d.nbits, d.high = false, false, 0, 0, 0
	return n
}

// putDirect writes a directly encoded character; UTF-7 is 7-bit, so an
// 8-bit byte is U+FFFD.
func putDirect(dst []byte, c byte) int {
	if c >= utf8.RuneSelf {
		return utf8.EncodeRune(dst, utf8.RuneError)
	}
	dst[0] = c
	return 1
}
