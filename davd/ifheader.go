package davd

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// checkIf evaluates the If header (RFC 4918 10.4) and the locks a write
// runs into, before x/net/webdav sees the request; the library is left
// with no If header and no-op locks (probeLocks). The library checks
// tokens but ignores entity tags (golang/go#44493) and lets a token work
// for anyone who knows it; here a token is one of the account's own or
// nothing:
//
//   - A token counts only when it names a live lock taken by this account.
//     Someone else's token is as if no token were given, so reading a
//     token off lockdiscovery (or guessing one) gains nothing.
//   - The header is true when one of its lists has all conditions true: a
//     token is true when it is the account's and its lock covers the
//     list's resource, an entity tag when it is the resource's now. A
//     false header is 412.
//   - A write (PUT, DELETE, MKCOL, PROPPATCH, MOVE, COPY's destination)
//     needs, for every lock on what it changes, that lock's token in the
//     header (for shared locks: one of them); else 423 with
//     lock-token-submitted. What a write changes: the resource, with
//     DELETE and MOVE everything below it, and the membership of its
//     folder when it adds or removes a member (RFC 4918 7.4).
//
// It returns false when it answered the request.
func (h *Handler) checkIf(w http.ResponseWriter, r *http.Request, u *userFS) bool {
	now := h.opt.Now()
	name := strings.TrimPrefix(r.URL.Path, h.prefix)
	u.state.tokens = map[string]*davLock{}
	if hdr := r.Header.Get("If"); hdr != "" {
		lists, ok := parseIfLists(hdr)
		if !ok {
			http.Error(w, "invalid If header", http.StatusBadRequest)
			return false
		}
		for _, l := range lists {
			for _, c := range l.conds {
				if c.token == "" {
					continue
				}
				if lk := h.locks.get(now, c.token); lk != nil && lk.principal == u.acct.Name {
					u.state.tokens[c.token] = lk
				}
			}
		}
		holds := false
		for _, l := range lists {
			target := name
			if l.resource != "" {
				ru, err := url.Parse(l.resource)
				if err != nil || !strings.HasPrefix(ru.Path, h.prefix+"/") {
					continue
				}
				target = strings.TrimPrefix(ru.Path, h.prefix)
			}
			if h.listHolds(target, l.conds, u) {
				holds = true
				break
			}
		}
		if !holds {
			http.Error(w, "precondition failed (If)", http.StatusPreconditionFailed)
			return false
		}
		r.Header.Del("If")
	}
	for _, t := range h.writeTargets(r, u, name) {
		n, _ := u.lockName(t.name)
		if n == "" {
			continue
		}
		for _, l := range h.locks.find(now, n, t.below, t.member) {
			if !u.state.submitted(&l) {
				lockedErr(w, http.StatusLocked, "lock-token-submitted", u.lockHref(&l))
				return false
			}
		}
	}
	return true
}

// submitted: the request carries l's token, or for a shared lock the
// token of a shared lock of the account that overlaps it.
func (s *reqState) submitted(l *davLock) bool {
	if s.tokens[l.token] != nil {
		return true
	}
	if !l.shared {
		return false
	}
	for _, t := range s.tokens {
		if t.shared && (t.covers(l.root) || l.covers(t.root)) {
			return true
		}
	}
	return false
}

// lockTarget is one resource a write changes: with below also what is
// inside it, with member also its folder's membership.
type lockTarget struct {
	name          string
	below, member bool
}

func (h *Handler) writeTargets(r *http.Request, u *userFS, name string) []lockTarget {
	dst := ""
	if d, err := url.Parse(r.Header.Get("Destination")); err == nil {
		dst = strings.TrimPrefix(d.Path, h.prefix)
	}
	switch r.Method {
	case http.MethodPut:
		_, err := u.Stat(context.Background(), name)
		return []lockTarget{{name, false, err != nil}}
	case "MKCOL":
		return []lockTarget{{name, false, true}}
	case "PROPPATCH":
		return []lockTarget{{name, false, false}}
	case http.MethodDelete:
		return []lockTarget{{name, true, true}}
	case "MOVE":
		return []lockTarget{{name, true, true}, {dst, true, true}}
	case "COPY":
		return []lockTarget{{dst, true, true}}
	}
	return nil
}

// listHolds evaluates one list of the If header against target.
func (h *Handler) listHolds(target string, conds []ifCond, u *userFS) bool {
	n, _ := u.lockName(target)
	cur, loaded := "", false
	for _, c := range conds {
		var ok bool
		if c.token != "" {
			l := u.state.tokens[c.token]
			// A depth-0 lock on a folder guards its members list, so its
			// token also counts for the member a write adds or removes.
			ok = l != nil && n != "" && (l.covers(n) || l.root == n[:strings.LastIndexByte(n, '/')])
		} else {
			if !loaded {
				loaded = true
				if p, err := u.resolve(target); err == nil && p.virtual == "" {
					if e, err := h.opt.Store.FileStat(p.tree, p.path); err == nil {
						cur = e.ETag()
					}
				}
			}
			ok = cur != "" && cur == c.etag
		}
		if ok == c.not {
			return false
		}
	}
	return true
}

// lockedErr answers with an RFC 4918 precondition element naming a lock
// root (423 lock-token-submitted, 423 no-conflicting-lock, 409
// lock-token-matches-request-uri).
func lockedErr(w http.ResponseWriter, status int, cond, href string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	inner := ""
	if href != "" {
		inner = "<D:href>" + xmlEscape(href) + "</D:href>"
	}
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<D:error xmlns:D="DAV:"><D:%s>%s</D:%s></D:error>`, cond, inner, cond)
}

type ifList struct {
	resource string
	conds    []ifCond
}

type ifCond struct {
	not   bool
	token string
	etag  string
}

// parseIfLists reads the If header grammar of RFC 4918 10.4.2.
func parseIfLists(s string) ([]ifList, bool) {
	var out []ifList
	resource := ""
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, len(out) > 0
		}
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return nil, false
			}
			resource, s = s[1:end], s[end+1:]
		case '(':
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return nil, false
			}
			conds, ok := parseIfConds(s[1:end])
			if !ok {
				return nil, false
			}
			out = append(out, ifList{resource: resource, conds: conds})
			s = s[end+1:]
		default:
			return nil, false
		}
	}
}

func parseIfConds(s string) ([]ifCond, bool) {
	var out []ifCond
	not := false
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, len(out) > 0
		}
		if len(s) >= 3 && strings.EqualFold(s[:3], "not") {
			not, s = true, s[3:]
			continue
		}
		var c ifCond
		switch s[0] {
		case '<':
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return nil, false
			}
			c.token, s = s[1:end], s[end+1:]
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, false
			}
			c.etag, s = strings.TrimPrefix(s[1:end], "W/"), s[end+1:]
		default:
			return nil, false
		}
		c.not, not = not, false
		out = append(out, c)
	}
}
