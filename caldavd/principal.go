package caldavd

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"strconv"
)

// One principal for both: a client pointed at the server root (RFC 6764
// section 6) asks "/" for its current-user-principal, and cannot say
// whether it looks for calendars or address books; the root leads here,
// so this principal also names the CardDAV home set (RFC 6352 section
// 7.1.1). go-webdav v0.6.0 answers that property 404; a PROPFIND that
// asks for it has the 404 element replaced by a 200 propstat with the
// value. The library's serialization is pinned with its version; the
// vdirsyncer test discovers the address book from the root through it.

const (
	emptyABHome   = `<addressbook-home-set xmlns="urn:ietf:params:xml:ns:carddav"></addressbook-home-set>`
	emptyNotFound = `<propstat xmlns="DAV:"><prop xmlns="DAV:"></prop><status>HTTP/1.1 404 Not Found</status></propstat>`
)

// captured holds a response until it is rewritten.
type captured struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (c *captured) Header() http.Header { return c.h }
func (c *captured) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captured) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(p)
}

func (h *Handler) servePrincipal(w http.ResponseWriter, r *http.Request, abHome string) {
	body, _ := io.ReadAll(r.Body) // bounded in ServeHTTP
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte("addressbook-home-set")) {
		h.dav.ServeHTTP(w, r)
		return
	}
	c := &captured{h: http.Header{}}
	h.dav.ServeHTTP(c, r)
	out := c.body.Bytes()
	if c.status == http.StatusMultiStatus && bytes.Contains(out, []byte(emptyABHome)) {
		out = bytes.Replace(out, []byte(emptyABHome), nil, 1)
		out = bytes.Replace(out, []byte(emptyNotFound), nil, 1)
		found := `<propstat xmlns="DAV:"><prop xmlns="DAV:"><addressbook-home-set xmlns="urn:ietf:params:xml:ns:carddav"><href xmlns="DAV:">` +
			html.EscapeString(abHome) + `</href></addressbook-home-set></prop><status>HTTP/1.1 200 OK</status></propstat>`
		if i := bytes.LastIndex(out, []byte("</response>")); i >= 0 {
			out = append(out[:i:i], append([]byte(found), out[i:]...)...)
		}
	}
	for k, v := range c.h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(c.status)
	w.Write(out)
}
