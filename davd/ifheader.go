package davd

import (
	"net/http"
	"net/url"
	"strings"
)

// x/net/webdav checks the lock tokens of an If header but ignores its
// entity tags (golang/go#44493), so "(<token> ["etag"])" passed even when
// the file had changed. checkIfETags adds the missing half: at least one
// list of the header must have all its entity-tag conditions true. Token
// conditions count as true here; the library checks them. A header this
// accepts is never one RFC 4918 10.4 refuses for its tags.
func (h *Handler) checkIfETags(r *http.Request, u *userFS) bool {
	hdr := r.Header.Get("If")
	if hdr == "" {
		return true
	}
	lists, ok := parseIfLists(hdr)
	if !ok {
		return true // the library answers 400
	}
	for _, l := range lists {
		target := r.URL.Path
		if l.resource != "" {
			ru, err := url.Parse(l.resource)
			if err != nil {
				continue
			}
			target = ru.Path
		}
		if h.etagsHold(target, l.conds, u) {
			return true
		}
	}
	return false
}

func (h *Handler) etagsHold(target string, conds []ifCond, u *userFS) bool {
	cur := ""
	loaded := false
	for _, c := range conds {
		if c.etag == "" {
			continue
		}
		if !loaded {
			loaded = true
			if p, err := u.resolve(strings.TrimPrefix(target, h.prefix)); err == nil && p.virtual == "" {
				if e, err := h.opt.Store.FileStat(p.tree, p.path); err == nil {
					cur = e.ETag()
				}
			}
		}
		if (cur != "" && cur == c.etag) == c.not {
			return false
		}
	}
	return true
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
