package davd

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"schulhof/policy"
	"schulhof/store"
)

// preflight applies what must happen before x/net/webdav sees a request:
// SIZE-20MB and quota on PUT before the body is read, PUT preconditions,
// the depth cap of PROPFIND, the Overwrite default of MOVE/COPY, and GET
// itself (served here so SIZE-20MB is checked and the blob is sent as a
// file). It returns false when it has answered the request.
func (h *Handler) preflight(w *responseMapper, r *http.Request, u *userFS) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !h.checkIf(w, r, u) {
		return false
	}
	switch r.Method {
	case "LOCK":
		h.serveLock(w, r, u)
		return false
	case "UNLOCK":
		h.serveUnlock(w, r, u)
		return false
	case http.MethodGet, http.MethodHead:
		return h.serveGet(w, r, u)
	case http.MethodPut:
		return h.preflightPut(w, r, u)
	case "PROPFIND":
		// Missing Depth means infinity (RFC 4918 9.1): one request would
		// walk a whole tree. Refused with the RFC's precondition.
		if d := strings.TrimSpace(r.Header.Get("Depth")); d != "0" && d != "1" {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+
				`<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`)
			return false
		}
	case "MOVE", "COPY":
		// RFC 4918 10.6: a missing Overwrite header means T; the library
		// reads it as F for MOVE (golang/go#66059).
		if r.Header.Get("Overwrite") == "" {
			r.Header.Set("Overwrite", "T")
		}
		dst, err := url.Parse(r.Header.Get("Destination"))
		if err == nil && unsafePath(dst.Path) {
			http.Error(w, "invalid destination", http.StatusBadRequest)
			return false
		}
		if err == nil {
			u.state.src = strings.TrimPrefix(r.URL.Path, h.prefix)
			u.state.dst = strings.TrimPrefix(dst.Path, h.prefix)
			if r.Method == "COPY" && !u.preflightCopy(w, r) {
				return false
			}
		}
	}
	return true
}

// sizeExceptions is the account's SIZE-20MB exceptions as the policy
// takes them: read once per request, for both the check and the limit.
func (h *Handler) sizeExceptions(acct *store.Account) []policy.SizeException {
	xs, err := h.opt.Store.Exceptions(acct.Name)
	if err != nil {
		h.opt.Logger.Error("exceptions", "account", acct.Name, "err", err)
	}
	out := make([]policy.SizeException, len(xs))
	for i, x := range xs {
		out[i] = policy.SizeException{Bytes: x.Bytes, Until: x.Until}
	}
	return out
}

func (h *Handler) preflightPut(w *responseMapper, r *http.Request, u *userFS) bool {
	release, d := h.startUpload(u.acct.Name)
	if !d.Allow {
		h.refuse(w, r, d)
		return false
	}
	u.state.release = release
	if r.Header.Get("Content-Range") != "" {
		// RFC 9110 14.5: a server that does not support partial PUT must
		// refuse it rather than store the fragment as the whole file.
		http.Error(w, "Content-Range on PUT is not supported", http.StatusBadRequest)
		return false
	}
	xs, now := h.sizeExceptions(u.acct), h.opt.Now()
	if r.ContentLength > 0 {
		if d := h.opt.Policy.CheckTransfer(r.ContentLength, xs, now); !d.Allow {
			h.refuse(w, r, d)
			return false
		}
	}
	u.state.limit = h.opt.Policy.TransferLimit(xs, now)
	name := strings.TrimPrefix(r.URL.Path, h.prefix)
	p, err := u.resolve(name)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return false
	}
	var old *store.FileEntry
	if p.virtual == "" {
		if fi, err := u.stat(p, name); err == nil { // remembered: OpenFile asks again
			old = fi.e
		}
		if r.ContentLength > 0 {
			oldSize := int64(0)
			if old != nil {
				oldSize = old.Size
			}
			if d := policy.CheckQuota(u.used(p.tree), r.ContentLength-oldSize, u.quota(p)); !d.Allow {
				h.refuse(w, r, d)
				return false
			}
		}
	}
	u.state.ifMatch = etagList(r.Header.Get("If-Match"))
	u.state.ifNone = etagList(r.Header.Get("If-None-Match"))
	if u.state.precondition(old) != nil {
		http.Error(w, "precondition failed", http.StatusPreconditionFailed)
		return false
	}
	body := r.Body
	if w.req != nil {
		body = &revocableBody{ReadCloser: body, req: w.req} // ends with the account's access
	}
	r.Body = &countedBody{ReadCloser: body, state: u.state, h: h}
	if h.putStarted != nil {
		h.putStarted()
	}
	return true
}

// etagList splits an If-Match / If-None-Match value; weak tags compare by
// their opaque part (we only make strong ones).
func etagList(v string) []string {
	var out []string
	for _, t := range strings.Split(v, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// errPrecondition refuses a PUT whose If-Match / If-None-Match fails.
type errPrecondition struct{}

func (errPrecondition) Error() string { return "precondition failed" }

// precondition checks If-Match / If-None-Match against the entry now
// there (nil: none). It runs in the preflight and again inside the
// transaction that switches the entry, so a concurrent change is caught.
func (s *reqState) precondition(old *store.FileEntry) error {
	// The store may ask more than once (FilePut's group commit): the
	// last answer counts.
	s.preconditionFailed = !s.preconditionHolds(old)
	if s.preconditionFailed {
		return errPrecondition{}
	}
	return nil
}

func (s *reqState) preconditionHolds(old *store.FileEntry) bool {
	tag := ""
	if old != nil && !old.Dir {
		tag = old.ETag()
	}
	if len(s.ifMatch) > 0 && !etagListed(s.ifMatch, tag) {
		return false
	}
	return !etagListed(s.ifNone, tag)
}

// etagListed reports whether a file with tag (none: "") answers to an
// If-Match or If-None-Match list: "*" names every file there is.
func etagListed(list []string, tag string) bool {
	return tag != "" && (slices.Contains(list, "*") || slices.Contains(list, tag))
}

// countedBody counts a PUT body while it streams (chunked uploads have no
// Content-Length) and ends it with SIZE-20MB one byte past the limit.
type countedBody struct {
	io.ReadCloser
	state *reqState
	h     *Handler
	n     int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if b.state.limit > 0 && b.n > b.state.limit {
		d := b.h.opt.Policy.CheckTransfer(b.n, nil, b.h.opt.Now())
		return 0, b.state.fail(d.Err())
	}
	if err == io.EOF {
		b.state.bodyDone = true
	} else if err != nil {
		b.state.fail(err) // a body cut for LIMIT-TIMEOUT answers 408
	}
	return n, err
}
