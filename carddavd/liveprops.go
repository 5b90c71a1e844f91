package carddavd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"schulhof/internal/addressbook"
)

// Two properties clients ask of the collections that go-webdav v0.6.0
// answers 404: current-user-privilege-set (RFC 3744), from which
// Thunderbird and DAVx⁵ learn that the book is read-only (no edits that
// would only fail), and the CalendarServer getctag, from which they learn
// that nothing changed (no listing of 3,300 ETags at every sync). A
// PROPFIND that asks for either has its multistatus rewritten: the empty
// 404 elements the library writes are replaced by a 200 propstat with the
// values. The library's serialization is pinned with its version; the
// tests read these properties back.

const (
	emptyPrivileges = `<current-user-privilege-set xmlns="DAV:"></current-user-privilege-set>`
	emptyCTag       = `<getctag xmlns="http://calendarserver.org/ns/"></getctag>`
	readPrivileges  = `<current-user-privilege-set xmlns="DAV:"><privilege><read/></privilege><privilege><read-current-user-privilege-set/></privilege></current-user-privilege-set>`
	emptyNotFound   = `<propstat xmlns="DAV:"><prop xmlns="DAV:"></prop><status>HTTP/1.1 404 Not Found</status></propstat>`
)

var hrefRE = regexp.MustCompile(`<href>([^<]*)</href>`)

// wantsLiveProps: the PROPFIND names one of the two.
func wantsLiveProps(body []byte) bool {
	return bytes.Contains(body, []byte("current-user-privilege-set")) || bytes.Contains(body, []byte("getctag"))
}

// buffered holds a response until it is rewritten.
type buffered struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (b *buffered) Header() http.Header { return b.h }
func (b *buffered) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *buffered) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// serveWithLiveProps runs the library into a buffer and fills in the two
// properties for the principal, the home set and the book.
func (h *Handler) serveWithLiveProps(w http.ResponseWriter, r *http.Request, rq *request) {
	buf := &buffered{h: w.Header()}
	h.lib.ServeHTTP(buf, r)
	out := buf.body.Bytes()
	if buf.status == http.StatusMultiStatus {
		out = h.fillLiveProps(out, rq)
	}
	w.Header().Del("Content-Length")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	w.WriteHeader(buf.status)
	w.Write(out)
}

func (h *Handler) fillLiveProps(ms []byte, rq *request) []byte {
	me := rq.acct.Name
	parts := strings.SplitAfter(string(ms), "</response>")
	ctag := ""
	for i, part := range parts {
		m := hrefRE.FindStringSubmatch(part)
		if m == nil {
			continue
		}
		href := m[1]
		if href != principalPath(me) && href != homePath(me) && href != bookPath(me) {
			continue
		}
		var vals strings.Builder
		if strings.Contains(part, emptyPrivileges) {
			part = strings.Replace(part, emptyPrivileges, "", 1)
			vals.WriteString(readPrivileges)
		}
		if href == bookPath(me) && strings.Contains(part, emptyCTag) {
			if ctag == "" {
				ctag = h.ctag()
			}
			if ctag != "" {
				part = strings.Replace(part, emptyCTag, "", 1)
				vals.WriteString(`<getctag xmlns="http://calendarserver.org/ns/">` + ctag + `</getctag>`)
			}
		}
		if vals.Len() == 0 {
			continue
		}
		part = strings.Replace(part, emptyNotFound, "", 1)
		part = strings.TrimSuffix(part, "</response>") +
			`<propstat xmlns="DAV:"><prop xmlns="DAV:">` + vals.String() + `</prop><status>HTTP/1.1 200 OK</status></propstat></response>`
		parts[i] = part
	}
	return []byte(strings.Join(parts, ""))
}

// ctag changes whenever any card's ETag does (and when a card comes or
// goes): a digest of every account's line.
func (h *Handler) ctag() string {
	all, err := addressbook.All(h.opt.Store, h.opt.Domain)
	if err != nil {
		h.opt.Logger.Error("carddav: ctag", "err", err)
		return ""
	}
	d := sha256.New()
	for i := range all {
		d.Write([]byte(all[i].Account + "=" + etag(&all[i]) + ";"))
	}
	return hex.EncodeToString(d.Sum(nil)[:16])
}
