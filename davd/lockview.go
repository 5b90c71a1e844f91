package davd

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"time"

	"schulhof/policy"
)

// lockName maps a DAV name to its name in the lock table, or "" for the
// virtual folders (nothing there can be locked or written) and names the
// account cannot reach.
func (u *userFS) lockName(name string) (string, place) {
	p, err := u.resolve(name)
	if err != nil || p.virtual != "" {
		return "", p
	}
	return "/" + string(p.tree) + strings.TrimSuffix(p.path, "/"), p
}

// mayBreak: the account may remove l although another account took it.
func (u *userFS) mayBreak(l *davLock) bool {
	if l.principal == u.acct.Name {
		return true
	}
	group, inGroup := strings.CutPrefix(l.tree, "g:")
	if !inGroup || !u.isMember(group) {
		return false
	}
	teaches := false
	if g, err := u.h.opt.Store.Group(group); err == nil {
		teaches = g.IsTeacher(u.acct.Name)
	}
	return policy.MayBreakLock(policy.Role(u.acct.Role), teaches, l.role, true)
}

// lockDiscoveryXML renders locks as the inner XML of DAV:lockdiscovery
// (RFC 4918 15.8); the owner the client gave is shown to its holder only,
// everyone else sees the account's name. The token of a lock is shown only to the account that
// holds it and to those who may remove it (RFC 4918 allows hiding it): a
// token is no password, but nobody needs to know someone else's.
func (u *userFS) lockDiscoveryXML(now time.Time, locks []davLock) []byte {
	var b strings.Builder
	for i := range locks {
		l := &locks[i]
		depth, scope := "infinity", "exclusive"
		if l.zeroDepth {
			depth = "0"
		}
		if l.shared {
			scope = "shared"
		}
		fmt.Fprintf(&b, `<D:activelock xmlns:D="DAV:"><D:locktype><D:write/></D:locktype>`+
			`<D:lockscope><D:%s/></D:lockscope><D:depth>%s</D:depth>`, scope, depth)
		switch {
		case l.principal != u.acct.Name:
			// The owner is whatever the client wrote: a student's lock
			// must not say "Frau Lehrer" to the class. Others see the
			// account that took it.
			fmt.Fprintf(&b, `<D:owner><D:href>%s</D:href></D:owner>`, xmlEscape(l.principal))
		case l.ownerXML != "":
			fmt.Fprintf(&b, `<D:owner>%s</D:owner>`, l.ownerXML)
		}
		fmt.Fprintf(&b, `<D:timeout>Second-%d</D:timeout>`, max(int64(l.expires.Sub(now)/time.Second), 0))
		if u.mayBreak(l) {
			fmt.Fprintf(&b, `<D:locktoken><D:href>%s</D:href></D:locktoken>`, xmlEscape(l.token))
		}
		fmt.Fprintf(&b, `<D:lockroot><D:href>%s</D:href></D:lockroot></D:activelock>`, xmlEscape(u.lockHref(l)))
	}
	return []byte(b.String())
}

// lockHref is the URL of a lock's root as this account names it.
func (u *userFS) lockHref(l *davLock) string {
	_, sub, _ := strings.Cut(strings.TrimPrefix(l.root, "/"), "/")
	dav := "/home/"
	if g, ok := strings.CutPrefix(l.tree, "g:"); ok {
		dav = "/groups/" + g + "/"
	}
	return (&url.URL{Path: u.h.prefix + dav + sub}).EscapedPath()
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// discover lists the live locks covering a DAV name, for lockdiscovery.
func (u *userFS) discover(name string) []davLock {
	n, _ := u.lockName(name)
	if n == "" {
		return nil
	}
	return u.h.locks.find(u.h.opt.Now(), n, false, false)
}
