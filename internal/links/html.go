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
// meta refresh targets, and links written in the visible text.
func scanHTML(r io.Reader, add func(string)) error {
	z := html.NewTokenizer(r)
	text := newScanner(add)
	defer text.flush()
	inStyle := false
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
			text.Write(t)
			if inStyle {
				cssURLs(t, add)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			text.Write([]byte{'\n'}) // tags separate words
			name, hasAttr := z.TagName()
			inStyle = tt == html.StartTagToken && string(name) == "style"
			for hasAttr {
				var key, val []byte
				key, val, hasAttr = z.TagAttr()
				attr(string(name), string(key), val, add)
			}
		}
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
