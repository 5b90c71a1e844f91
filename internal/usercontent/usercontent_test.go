package usercontent

import (
	"mime"
	"net/http"
	"strings"
	"testing"
)

// TestDispositionHostileNames: whatever the name, the header is one line,
// parses, and filename* gives back exactly the stored name.
func TestDispositionHostileNames(t *testing.T) {
	names := []string{
		"Referat.pdf", `a"b.html`, "zeile\r\nSet-Cookie: x=1.svg", `back\slash.js`, "Übung 1 – Lösung.pdf",
		"100%;name=x.txt", "tab\tname", "  spaces  ", "emoji 📎.png", "semi;colon=\"q\".xml", "\x00nul", "%41.txt",
	}
	for _, name := range names {
		v := Disposition("attachment", name)
		if strings.ContainsAny(v, "\r\n\x00\t") {
			t.Errorf("%q: control characters in header: %q", name, v)
		}
		kind, params, err := mime.ParseMediaType(v)
		if err != nil || kind != "attachment" {
			t.Errorf("%q: %q does not parse: %v", name, v, err)
			continue
		}
		if params["filename"] != name {
			t.Errorf("%q: filename* gives %q (header %q)", name, params["filename"], v)
		}
		// The ASCII fallback alone must parse too (clients without RFC 8187).
		fb := v[:strings.Index(v, "; filename*=")]
		if _, p, err := mime.ParseMediaType(fb); err != nil || strings.ContainsAny(p["filename"], "\"\\") {
			t.Errorf("%q: fallback %q: %v %q", name, fb, err, p["filename"])
		}
	}
}

// TestTypesAndDisposition: the class of active types is downloaded, the
// passive list opens inline, nothing is left to sniffing.
func TestTypesAndDisposition(t *testing.T) {
	cases := map[string]string{
		"a.html": "attachment", "a.HTM": "attachment", "a.xhtml": "attachment", "a.svg": "attachment",
		"a.xml": "attachment", "a.js": "attachment", "a.mjs": "attachment", "noext": "attachment",
		"a.css": "attachment", "a.json": "attachment", "a.docx": "attachment", "a.unknownext": "attachment",
		"a.pdf": "inline", "a.png": "inline", "a.JPG": "inline", "a.txt": "inline", "a.mp4": "inline", "a.mp3": "inline",
	}
	for name, want := range cases {
		h := http.Header{}
		SetHeaders(h, name)
		if got := strings.SplitN(h.Get("Content-Disposition"), ";", 2)[0]; got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
		if h.Get("Content-Type") == "" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != CSP {
			t.Errorf("%s: headers %v", name, h)
		}
	}
	if Type("noext") != "application/octet-stream" || Type("x.svg") != "image/svg+xml" {
		t.Fatal("type table")
	}
}
