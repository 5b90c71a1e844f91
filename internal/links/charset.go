package links

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// A text part is scanned in every charset a client might show it in: the
// declared one (or ones); the raw bytes when the declaration is missing,
// unknown or not ASCII-compatible (a client falls back to its default:
// UTF-8, or Windows-1252 for 8-bit text that is not UTF-8, the German
// default); the charset a byte order mark or an HTML <meta> names. Each
// view is a decoder to UTF-8; nil is the bytes as they are.

// view is one way of reading a text part's bytes.
type view struct {
	key string                // to drop duplicates
	dec transform.Transformer // nil: the bytes as they are
}

// maxCharsetLabels bounds the charset parameters followed per part.
const maxCharsetLabels = 3

// sniffBytes is how much of a part is looked at for a byte order mark and
// an HTML <meta charset> (HTML's prescan looks at 1024 bytes).
const sniffBytes = 1024

// charsetViews decides the views of a text part from its declared charset
// labels and its first bytes.
func charsetViews(labels []string, prefix []byte, isHTML bool) []view {
	var views []view
	add := func(v view) {
		for _, o := range views {
			if o.key == v.key {
				return
			}
		}
		views = append(views, v)
	}
	raw := view{key: "raw"}
	fallback := view{key: "fallback", dec: &fallbackDecoder{}}
	known := 0
	for _, l := range labels {
		name, enc := lookupCharset(l)
		if enc == nil {
			continue
		}
		known++
		if name == "utf-8" {
			add(raw)
			continue
		}
		add(view{key: name, dec: enc.NewDecoder()})
		if !asciiTransparent(enc) { // a wrong label: clients fall back to the bytes
			add(fallback)
		}
	}
	if known == 0 {
		add(fallback)
		if isHTML {
			if l := metaCharset(prefix); l != "" {
				if name, enc := lookupCharset(l); enc != nil && name != "utf-8" {
					add(view{key: name, dec: enc.NewDecoder()})
				}
			}
		}
	}
	switch {
	case bytes.HasPrefix(prefix, []byte{0xfe, 0xff}):
		add(view{key: "utf-16be", dec: unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()})
	case bytes.HasPrefix(prefix, []byte{0xff, 0xfe}):
		add(view{key: "utf-16le", dec: unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()})
	case bytes.HasPrefix(prefix, []byte{0xef, 0xbb, 0xbf}):
		add(raw)
	}
	return views
}

// lookupCharset finds the encoding for a charset label as clients read
// labels: case, blanks and quotes do not matter, IANA names and aliases
// and the WHATWG labels ("latin1", "utf8") are known, and UTF-7, which
// x/text lacks, is decoded here. It returns a canonical name and nil for
// an unknown label.
func lookupCharset(label string) (string, encoding.Encoding) {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), "\"' \t"))
	if l == "" {
		return "", nil
	}
	switch l {
	case "utf-7", "utf7", "x-utf-7", "unicode-1-1-utf-7", "csunicode11utf7", "csutf7":
		return "utf-7", utf7
	case "utf-8", "utf8", "us-ascii", "ascii", "x-utf_8j", "unicode-1-1-utf-8":
		return "utf-8", unicode.UTF8
	}
	enc, _ := ianaindex.MIME.Encoding(l)
	if enc == nil {
		enc, _ = ianaindex.MIME.Encoding("cs" + l)
	}
	if enc == nil {
		enc, _ = htmlindex.Get(l)
	}
	if enc == nil {
		return "", nil
	}
	if enc == unicode.UTF8 {
		return "utf-8", enc
	}
	name, err := ianaindex.MIME.Name(enc)
	if err != nil || name == "" {
		name, _ = htmlindex.Name(enc)
	}
	if name == "" {
		name = l
	}
	return strings.ToLower(name), enc
}

// linkProbe holds every ASCII character a link is written with.
const linkProbe = "https://www.Ab-c_9.example:80/p?q=1&r=%41#f @[]()<>\"'=;,+!~*\\\r\n\t"

// asciiTransparent reports whether enc decodes the ASCII of links to
// itself (Latin-1, Shift_JIS, UTF-8 do; UTF-16, UTF-7, EBCDIC do not).
func asciiTransparent(enc encoding.Encoding) bool {
	out, err := enc.NewDecoder().String(linkProbe)
	return err == nil && out == linkProbe
}

// fallbackDecoder reads bytes whose charset is not known, for both kinds
// of client at once: valid UTF-8 stays, and every other byte becomes its
// Windows-1252 character preceded by a zero-width space. The scanner
// reports a host both ending at an invisible character (as a client
// reading UTF-8 shows U+FFFD there) and running through it (as one
// reading Windows-1252 shows "bücher.de"), so one view serves both.
type fallbackDecoder struct{ transform.NopResetter }

const zeroWidthSpace = '\u200b'

func (fallbackDecoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		c := src[nSrc]
		if c < utf8.RuneSelf {
			if nDst == len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			dst[nDst] = c
			nDst++
			nSrc++
			continue
		}
		if !atEOF && !utf8.FullRune(src[nSrc:]) {
			return nDst, nSrc, transform.ErrShortSrc
		}
		r, n := utf8.DecodeRune(src[nSrc:])
		if len(dst)-nDst < 2*utf8.UTFMax {
			return nDst, nSrc, transform.ErrShortDst
		}
		if r == utf8.RuneError && n == 1 {
			r = charmap.Windows1252.DecodeByte(c)
			nDst += utf8.EncodeRune(dst[nDst:], zeroWidthSpace)
		}
		nDst += utf8.EncodeRune(dst[nDst:], r)
		nSrc += n
	}
	return nDst, nSrc, nil
}

// metaCharset returns the charset an HTML document's <meta> names in its
// first bytes ("<meta charset=…>" or the http-equiv Content-Type form).
func metaCharset(prefix []byte) string {
	z := html.NewTokenizer(bytes.NewReader(prefix))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			if string(name) != "meta" {
				continue
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "charset":
					return string(v)
				case "content":
					lv := strings.ToLower(string(v))
					if i := strings.Index(lv, "charset="); i >= 0 {
						l := lv[i+len("charset="):]
						if j := strings.IndexAny(l, "; "); j >= 0 {
							l = l[:j]
						}
						return l
					}
				}
			}
		}
	}
}
