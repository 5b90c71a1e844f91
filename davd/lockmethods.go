package davd

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// serveLock answers LOCK (RFC 4918 9.10): a new exclusive or shared write
// lock, or with an empty body the refresh of one of the account's own
// locks named in the If header. checkIf has run (the If header held).
func (h *Handler) serveLock(w http.ResponseWriter, r *http.Request, u *userFS) {
	now := h.opt.Now()
	name := strings.TrimPrefix(r.URL.Path, h.prefix)
	n, p := u.lockName(name)
	if n == "" {
		if p.virtual != "" {
			http.Error(w, "Dieser Ordner kann nicht gesperrt werden.", http.StatusForbidden)
		} else {
			http.Error(w, "not found", http.StatusNotFound)
		}
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "request body not readable", http.StatusBadRequest)
		return
	}
	timeout := parseTimeout(r.Header.Get("Timeout"))
	req := policy.LockRequest{Role: policy.Role(u.acct.Role), InGroupFolder: p.group != "", Timeout: timeout}

	if len(bytes.TrimSpace(body)) == 0 {
		// Refresh: the If header names the lock; checkIf kept only the
		// account's own live tokens.
		for _, l := range u.state.tokens {
			if !l.covers(n) {
				continue
			}
			req.Refresh = true
			_, granted := h.opt.Policy.CheckLock(req)
			if lk := h.locks.refresh(now, l.token, granted); lk != nil {
				writeLockResponse(w, u, now, http.StatusOK, lk)
				return
			}
		}
		lockedErr(w, http.StatusPreconditionFailed, "lock-token-matches-request-uri", "")
		return
	}

	li, err := parseLockInfo(body)
	if err != nil {
		http.Error(w, "invalid lockinfo: "+err.Error(), http.StatusBadRequest)
		return
	}
	zeroDepth := false
	switch r.Header.Get("Depth") {
	case "", "infinity", "Infinity":
	case "0":
		zeroDepth = true
	default:
		http.Error(w, "Depth must be 0 or infinity", http.StatusBadRequest)
		return
	}
	e, err := h.opt.Store.FileStat(p.tree, p.path)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !exists {
		if dir, err := h.opt.Store.FileStat(p.tree, path.Dir(p.path)); err != nil || !dir.Dir {
			http.Error(w, "parent folder missing", http.StatusConflict)
			return
		}
	}
	req.Collection = exists && e.Dir
	req.DepthInfinity = !zeroDepth
	req.OwnerBytes = int64(len(li.ownerXML))
	req.Held = h.locks.held(now, u.acct.Name)
	d, granted := h.opt.Policy.CheckLock(req)
	if !d.Allow {
		h.refuse(w, r, d)
		return
	}
	l := &davLock{tree: string(p.tree), root: n, href: name, zeroDepth: zeroDepth, shared: li.shared,
		ownerXML: li.ownerXML, principal: u.acct.Name, role: policy.Role(u.acct.Role), timeout: granted}
	if err := h.locks.create(now, l, h.opt.Policy.Bound(policy.LocksPerAccount)); err != nil {
		var c errConflict
		var many errTooMany
		switch {
		case errors.As(err, &c):
			lockedErr(w, http.StatusLocked, "no-conflicting-lock", u.lockHref(c.with))
		case errors.As(err, &many):
			h.refuse(w, r, h.opt.Policy.CheckBound(policy.LocksPerAccount, many.held+1))
		default:
			h.opt.Logger.ErrorContext(r.Context(), "lock: save", "path", name, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return
	}
	status := http.StatusOK
	if !exists {
		// A LOCK on an unmapped name creates an empty file (RFC 4918 7.3).
		if err := h.createEmpty(u, name); err != nil {
			h.locks.remove(l.token)
			switch {
			case u.state.refusal != nil:
				h.refuse(w, r, *u.state.refusal)
			case errors.Is(err, fs.ErrNotExist):
				http.Error(w, "parent folder missing", http.StatusConflict)
			default:
				h.opt.Logger.ErrorContext(r.Context(), "lock: create", "path", name, "err", err)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
			return
		}
		status = http.StatusCreated
	}
	w.Header().Set("Lock-Token", "<"+l.token+">")
	writeLockResponse(w, u, now, status, l)
}

func (h *Handler) createEmpty(u *userFS, name string) error {
	f, err := u.OpenFile(context.Background(), name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

func writeLockResponse(w http.ResponseWriter, u *userFS, now time.Time, status int, l *davLock) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<D:prop xmlns:D="DAV:"><D:lockdiscovery>`)
	w.Write(u.lockDiscoveryXML(now, []davLock{*l}))
	io.WriteString(w, `</D:lockdiscovery></D:prop>`)
}

// serveUnlock answers UNLOCK (RFC 4918 9.11). The account that took a lock
// removes it; so may those policy.MayBreakLock names (a teacher owns her
// class folder, so a student's lock there must not shut her out).
func (h *Handler) serveUnlock(w http.ResponseWriter, r *http.Request, u *userFS) {
	now := h.opt.Now()
	t := strings.TrimSpace(r.Header.Get("Lock-Token"))
	if len(t) < 3 || t[0] != '<' || t[len(t)-1] != '>' {
		http.Error(w, "Lock-Token header missing", http.StatusBadRequest)
		return
	}
	n, _ := u.lockName(strings.TrimPrefix(r.URL.Path, h.prefix))
	l := h.locks.get(now, t[1:len(t)-1])
	if l == nil || n == "" || !l.covers(n) {
		lockedErr(w, http.StatusConflict, "lock-token-matches-request-uri", "")
		return
	}
	if !u.mayBreak(l) {
		h.refuse(w, r, policy.Deny(policy.LimitLock,
			"Diese Sperre hat jemand anderes gesetzt; nur diese Person (oder die Lehrkraft der Gruppe) kann sie aufheben."))
		return
	}
	if l.principal != u.acct.Name {
		h.opt.Logger.InfoContext(r.Context(), "dav lock removed by teacher or admin", "path", l.href, "holder", l.principal, "by", u.acct.Name)
	}
	h.locks.remove(l.token)
	w.WriteHeader(http.StatusNoContent)
}

// parseTimeout reads the Timeout header (RFC 4918 10.7): the first value
// understood; -1 for Infinite, 0 when none is given.
func parseTimeout(v string) time.Duration {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if strings.EqualFold(s, "Infinite") {
			return -1
		}
		if sec, ok := strings.CutPrefix(s, "Second-"); ok {
			n, err := strconv.ParseInt(sec, 10, 64)
			if err == nil && n > 0 {
				return time.Duration(min(n, int64(1<<31))) * time.Second
			}
		}
	}
	return 0
}

// lockInfo is the body of a LOCK that creates a lock.
type lockInfo struct {
	shared, exclusive, write bool
	ownerXML                 string
}

var davNS = "DAV:"

// parseLockInfo reads DAV:lockinfo. The owner is written back out with
// its namespaces spelled on each element, so it reads the same wherever it
// is shown (lockdiscovery, the LOCK answer).
func parseLockInfo(b []byte) (lockInfo, error) {
	var li lockInfo
	d := xml.NewDecoder(bytes.NewReader(b))
	root, err := nextStart(d)
	if err != nil {
		return li, err
	}
	if root.Name != (xml.Name{Space: davNS, Local: "lockinfo"}) {
		return li, errors.New("not a DAV:lockinfo")
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return li, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name {
		case xml.Name{Space: davNS, Local: "lockscope"}:
			c, err := onlyChild(d)
			if err != nil {
				return li, err
			}
			li.exclusive = c == xml.Name{Space: davNS, Local: "exclusive"}
			li.shared = c == xml.Name{Space: davNS, Local: "shared"}
		case xml.Name{Space: davNS, Local: "locktype"}:
			c, err := onlyChild(d)
			if err != nil {
				return li, err
			}
			li.write = c == xml.Name{Space: davNS, Local: "write"}
		case xml.Name{Space: davNS, Local: "owner"}:
			if li.ownerXML, err = reencode(d); err != nil {
				return li, err
			}
		default:
			if err := d.Skip(); err != nil {
				return li, err
			}
		}
	}
	if !li.write || li.shared == li.exclusive {
		return li, errors.New("need a write lock, exclusive or shared")
	}
	return li, nil
}

func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

// onlyChild reads an element with one empty child and returns its name.
func onlyChild(d *xml.Decoder) (xml.Name, error) {
	var name xml.Name
	for {
		tok, err := d.Token()
		if err != nil {
			return name, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if name.Local != "" {
				return name, errors.New("more than one child in " + t.Name.Local)
			}
			name = t.Name
			if err := d.Skip(); err != nil {
				return name, err
			}
		case xml.EndElement:
			return name, nil
		}
	}
}

// reencode copies the content of the current element as XML with explicit
// namespaces, up to its end tag.
func reencode(d *xml.Decoder) (string, error) {
	var b strings.Builder
	enc := xml.NewEncoder(&b)
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			var attrs []xml.Attr
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && !(a.Name.Space == "" && a.Name.Local == "xmlns") {
					attrs = append(attrs, a)
				}
			}
			t.Attr = attrs
			err = enc.EncodeToken(t)
		case xml.EndElement:
			if depth == 0 {
				err := enc.Flush()
				return b.String(), err
			}
			depth--
			err = enc.EncodeToken(t)
		case xml.CharData:
			err = enc.EncodeToken(t)
		}
		if err != nil {
			return "", err
		}
	}
}
