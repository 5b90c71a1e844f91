package links

import (
	"bytes"
	"io"
	"strings"

	"golang.org/x/net/html"
)

// urlAttrs are the HTML attributes whose value is a URL a mail client may
// follow or load.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "background": true,
	"cite": true, "poster": true, "data": true, "longdesc": true, "lowsrc": true,
	"dynsrc": true, "usemap": true, "codebase": true, "manifest": true, "icon": true,
	"xlink:href": true, "ping": true, "archive": true, "classid": true,
}

// specialSchemes are those whose URLs browsers read as "scheme:host"
// even without "//" ("http:evil.example").
var specialSchemes = map[string]bool{"http": true, "https": true, "ftp": true, "ws": true, "wss": true}

// scanHTML reports the hosts of links in an HTML document: URL attributes
// (href, src, srcset, …), CSS url(…) in style attributes and <style>,
// meta refresh targets, and links written in the visible text, also
// inside Outlook's conditional comments (<!--[if mso]>…<![endif]-->),
// which Outlook renders.
//
// Block tags separate the text; an inline tag becomes a zero-width space,
// which the scanner reports hosts both ending at and running through: the
// reader sees "https://evil<b></b>.example" as one link, and a linkifier
// may see two words.
func scanHTML(r io.Reader, add func(string)) error {
	s := &htmlScan{add: add, text: newScanner(add)}
	defer s.text.flush()
	return s.run(html.NewTokenizer(r), 0)
}

type htmlScan struct {
	add  func(string)
	text *scanner
}

// maxRescanDepth bounds conditional comments and fallback content
// scanned again inside each other.
const maxRescanDepth = 4

var (
	newline     = []byte{'\n'}
	inlineBreak = []byte(string(zeroWidthSpace))
)

func (s *htmlScan) run(z *html.Tokenizer, depth int) error {
	inStyle := false
	// inFallback: inside <noscript>, <noembed> or <noframes>, which the
	// tokenizer reads as raw text but a mail client without scripts
	// renders as HTML.
	inFallback := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return nil
			}
			return z.Err()
		case html.TextToken:
			t := z.Text()
			s.text.Write(t)
			if inStyle {
				cssURLs(t, s.add)
			}
			if inFallback && depth < maxRescanDepth {
				if err := s.run(html.NewTokenizer(bytes.NewReader(t)), depth+1); err != nil {
					return err
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			if breakTags[string(name)] {
				s.text.Write(newline)
			} else {
				s.text.Write(inlineBreak)
			}
			inStyle = tt == html.StartTagToken && string(name) == "style"
			inFallback = tt == html.StartTagToken && fallbackTags[string(name)]
			for hasAttr {
				var key, val []byte
				key, val, hasAttr = z.TagAttr()
				attr(string(name), string(key), val, s.add)
			}
		case html.CommentToken:
			if inner, ok := conditionalContent(z.Raw()); ok && depth < maxRescanDepth {
				if err := s.run(html.NewTokenizer(bytes.NewReader(inner)), depth+1); err != nil {
					return err
				}
			}
		}
	}
}

var fallbackTags = map[string]bool{"noscript": true, "noembed": true, "noframes": true}

// conditionalContent returns what an Outlook conditional comment
// ("<!--[if mso]>…<![endif]-->") shows.
func conditionalContent(raw []byte) ([]byte, bool) {
	c, ok := bytes.CutPrefix(raw, []byte("<!--"))
	if !ok {
		return nil, false
	}
	c = bytes.TrimSuffix(bytes.TrimSuffix(c, []byte("-->")), []byte("--!>"))
	c = bytes.TrimLeft(c, " \t\r\n")
	if len(c) < 3 || !bytes.EqualFold(c[:3], []byte("[if")) {
		return nil, false
	}
	i := bytes.IndexByte(c, '>')
	if i < 0 {
		return nil, false
	}
	return c[i+1:], true
}

// breakTags are the elements that break the text a reader sees (blocks,
// line breaks, images, form controls). All others, unknown ones included,
// are inline, as browsers show them: text on both sides runs together.
var breakTags = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(`address applet area article aside audio base blockquote body br button canvas caption
		center col colgroup dd details dialog dir div dl dt embed fieldset figcaption figure footer form frame frameset
		h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input isindex keygen legend li link listing main map
		marquee math menu meta meter nav noembed noframes noscript object ol optgroup option output p param picture
		plaintext pre progress script section select source style summary svg table tbody td template textarea tfoot
		th thead title tr track ul video xmp`) {
		m[t] = true
	}
	return m
}()

// cssURLs reports the hosts of url(…) references in CSS.
func cssURLs(css []byte, add func(string)) {
	lower := bytes.ToLower(css)
	for off := 0; ; {
		i := bytes.Index(lower[off:], []byte("url("))
		if i < 0 {
			return
		}
		start := off + i + 4
		end := bytes.IndexByte(css[start:], ')')
		if end < 0 {
			end = len(css) - start
		}
		attrURL(bytes.Trim(css[start:start+end], " \t\r\n'\""), add)
		off = start + end
	}
}

// attr reports the hosts one attribute links to.
func attr(tag, key string, val []byte, add func(string)) {
	switch {
	case urlAttrs[key]:
		attrURL(val, add)
	case key == "srcset" || key == "imagesrcset":
		for c := range bytes.SplitSeq(val, []byte{','}) {
			if f := bytes.Fields(c); len(f) > 0 {
				attrURL(f[0], add)
			}
		}
	case key == "style":
		cssURLs(val, add)
	case key == "content" && tag == "meta": // <meta http-equiv=refresh content="0; url=…">
		if i := bytes.Index(bytes.ToLower(val), []byte("url=")); i >= 0 {
			attrURL(bytes.Trim(val[i+4:], " \t'\""), add)
		}
	}
}

// attrURL reports the host of a URL as a browser would resolve it:
// "//host/…" (scheme-relative), "http:host" and backslashes count, tabs and
// newlines inside are removed. Links embedded in the value (a redirector's
// target, "javascript:…'https://…'") are reported too.
func attrURL(v []byte, add func(string)) {
	if bytes.ContainsAny(v, "\t\r\n") {
		v = bytes.Map(func(r rune) rune {
			if r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, v)
	}
	v = bytes.TrimFunc(v, func(r rune) bool { return r <= ' ' })
	scanText(v, true, add)
	if len(v) >= 2 && (v[0] == '/' || v[0] == '\\') && (v[1] == '/' || v[1] == '\\') {
		addAuthority(v[2:], add)
		return
	}
	colon := bytes.IndexByte(v, ':')
	if colon <= 0 || schemeStart(v, colon) != 0 {
		return
	}
	if specialSchemes[strings.ToLower(string(v[:colon]))] {
		addAuthority(v[colon+1:], add)
	}
}
