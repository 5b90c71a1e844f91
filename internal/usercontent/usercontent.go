// Package usercontent decides how a file that a user stored is served to a
// browser: its Content-Type from a fixed table by extension (never sniffed,
// never the system's mime.types), and the headers that keep it inert on
// the server's own origin: nosniff, a sandboxing CSP, and an attachment
// disposition for every type that is not on a short list of passive ones.
// A pupil's HTML or SVG opened by a teacher from /dav/ is downloaded, not
// run next to /passwort and the portal.
package usercontent

import (
	"net/http"
	"path"
	"strings"
)

// CSP is sent with every piece of user content: nothing loads, nothing
// runs, and the document is a unique opaque origin even if a browser
// renders it anyway.
const CSP = "default-src 'none'; sandbox"

// types maps lower-case extensions to the Content-Type served. Anything
// not listed is application/octet-stream.
var types = map[string]string{
	// passive: shown inline
	".txt": "text/plain; charset=utf-8", ".text": "text/plain; charset=utf-8", ".log": "text/plain; charset=utf-8",
	".md":  "text/plain; charset=utf-8",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
	".avif": "image/avif", ".bmp": "image/bmp", ".ico": "image/x-icon", ".heic": "image/heic", ".tif": "image/tiff", ".tiff": "image/tiff",
	".pdf": "application/pdf",
	".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav",
	".flac": "audio/flac", ".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg", ".mov": "video/quicktime",
	// active or unknown to a browser: downloaded
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".shtml": "text/html; charset=utf-8",
	".xhtml": "application/xhtml+xml", ".xht": "application/xhtml+xml", ".svg": "image/svg+xml", ".svgz": "image/svg+xml",
	".xml": "application/xml", ".xsl": "application/xml", ".xslt": "application/xml", ".rss": "application/xml", ".atom": "application/xml",
	".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".cjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8", ".json": "application/json", ".csv": "text/csv; charset=utf-8",
	".wasm": "application/wasm", ".swf": "application/x-shockwave-flash",
	".zip": "application/zip", ".gz": "application/gzip", ".tar": "application/x-tar", ".7z": "application/x-7z-compressed",
	".doc": "application/msword", ".dot": "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".ppt":  "application/vnd.ms-powerpoint",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text", ".ods": "application/vnd.oasis.opendocument.spreadsheet",
	".odp": "application/vnd.oasis.opendocument.presentation", ".odg": "application/vnd.oasis.opendocument.graphics",
	".rtf": "application/rtf", ".epub": "application/epub+zip",
}

// passive are the types a browser only displays: no script, no markup
// that can load or run anything. Everything else is an attachment.
var passive = map[string]bool{
	"text/plain; charset=utf-8": true,
	"image/png":                 true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true,
	"image/bmp": true, "image/x-icon": true, "image/heic": true, "image/tiff": true,
	"application/pdf": true,
	"audio/mpeg":      true, "audio/mp4": true, "audio/ogg": true, "audio/wav": true, "audio/flac": true,
	"video/mp4": true, "video/webm": true, "video/ogg": true, "video/quicktime": true,
}

// Type is the Content-Type for a stored file name.
func Type(name string) string {
	if t, ok := types[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

// Passive reports whether a browser may show this type inline.
func Passive(contentType string) bool { return passive[contentType] }

// Inert sets the headers that keep any response inert in a browser:
// nosniff and the CSP. Every DAV daemon sets them on every response
// (a listing, a refusal, an error that echoes a name) before anything
// else, through this function or Handler.
func Inert(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", CSP)
}

// IsInert reports whether h carries Inert's headers (the daemons' tests).
func IsInert(h http.Header) bool {
	return h.Get("X-Content-Type-Options") == "nosniff" && h.Get("Content-Security-Policy") == CSP
}

// Handler is next with Inert's headers on every response.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Inert(w.Header())
		next.ServeHTTP(w, r)
	})
}

// SetHeaders sets Content-Type, nosniff, the CSP and the disposition for
// serving the file name to a browser.
func SetHeaders(h http.Header, name string) {
	t := Type(name)
	h.Set("Content-Type", t)
	Inert(h)
	kind := "attachment"
	if Passive(t) {
		kind = "inline"
	}
	h.Set("Content-Disposition", Disposition(kind, name))
}

// Disposition is a Content-Disposition value (RFC 6266) for name: an
// ASCII filename for old clients with everything doubtful replaced by
// "_", and filename* (RFC 8187, UTF-8, percent-encoded) with the real
// name. No quote, backslash, control character or line break of a
// hostile name reaches the header as itself.
func Disposition(kind, name string) string {
	var fallback, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' || r == ';' {
			fallback.WriteByte('_')
		} else {
			fallback.WriteRune(r)
		}
	}
	const hex = "0123456789ABCDEF"
	for _, c := range []byte(name) {
		if attrChar(c) {
			ext.WriteByte(c)
		} else {
			ext.WriteByte('%')
			ext.WriteByte(hex[c>>4])
			ext.WriteByte(hex[c&15])
		}
	}
	return kind + `; filename="` + fallback.String() + `"; filename*=UTF-8''` + ext.String()
}

// attrChar: the characters RFC 8187 lets stand for themselves in an
// extended value.
func attrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
