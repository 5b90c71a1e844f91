package davd

import (
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"schulhof/store"
)

// lockSystem is one in-memory webdav lock table for the whole server.
// Locks survive across requests but not a restart (clients re-lock; a
// lost lock only loses its protection, never data).
//
// DAV names are per account ("/home/x" is a different file for everyone),
// so names are translated into the store's tree names before they reach
// the table: "/h:<account>/x", "/g:<group>/x"; the virtual folders become
// "/v:<account>/…". A token is usable only by accounts that can see the
// tree it locks.
type lockSystem struct {
	ls webdav.LockSystem
	// createMu orders lock creations so that probes never overlap.
	createMu sync.Mutex

	mu    sync.Mutex
	roots map[string]lockRoot // token → translated root
}

type lockRoot struct {
	root    string
	expires time.Time // zero: no expiry
	details webdav.LockDetails
}

// remember records a token's root; expired entries go when the map grows.
func (l *lockSystem) remember(now time.Time, token string, ld webdav.LockDetails) {
	root, d := ld.Root, ld.Duration
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.roots) > 10000 {
		for t, r := range l.roots {
			if !r.expires.IsZero() && now.After(r.expires) {
				delete(l.roots, t)
			}
		}
	}
	var exp time.Time
	if d > 0 {
		exp = now.Add(d)
	}
	l.roots[token] = lockRoot{root, exp, ld}
}

func newLockSystem() *lockSystem {
	return &lockSystem{ls: webdav.NewMemLS(), roots: map[string]lockRoot{}}
}

// forUser returns the LockSystem view of one request.
func (l *lockSystem) forUser(u *userFS) webdav.LockSystem { return &userLocks{l: l, u: u} }

type userLocks struct {
	l *lockSystem
	u *userFS
}

// inner translates a DAV name into the shared table's namespace. Names
// the account cannot reach map into its own virtual space, where they
// lock nothing of anyone else.
func (ul *userLocks) inner(name string) string {
	p, err := ul.u.resolve(name)
	if err != nil || p.virtual != "" {
		return "/v:" + ul.u.acct.Name + "/" + strings.TrimPrefix(name, "/")
	}
	return "/" + string(p.tree) + strings.TrimSuffix(p.path, "/")
}

// outer translates back for lock discovery answers.
func (ul *userLocks) outer(inner string) string {
	rest := strings.TrimPrefix(inner, "/")
	tree, sub, _ := strings.Cut(rest, "/")
	switch {
	case tree == string(store.HomeTree(ul.u.acct.Name)):
		return "/home/" + sub
	case strings.HasPrefix(tree, "g:"):
		return "/groups/" + tree[2:] + "/" + sub
	}
	return "/" + sub
}

// visible reports whether the account can see the tree of a translated
// root (its home, its groups, its own virtual space).
func (ul *userLocks) visible(inner string) bool {
	tree, _, _ := strings.Cut(strings.TrimPrefix(inner, "/"), "/")
	switch {
	case tree == string(store.HomeTree(ul.u.acct.Name)), tree == "v:"+ul.u.acct.Name:
		return true
	case strings.HasPrefix(tree, "g:"):
		return ul.u.isMember(tree[2:])
	}
	return false
}

func (ul *userLocks) Confirm(now time.Time, name0, name1 string, conditions ...webdav.Condition) (func(), error) {
	if name0 != "" {
		name0 = ul.inner(name0)
	}
	if name1 != "" {
		name1 = ul.inner(name1)
	}
	return ul.l.ls.Confirm(now, name0, name1, conditions...)
}

// probeToken stands for the library's temporary lock of a write without
// an If header.
const probeToken = "schulhof:probe"

func (ul *userLocks) Create(now time.Time, details webdav.LockDetails) (string, error) {
	details.Root = ul.inner(details.Root)
	ul.l.createMu.Lock()
	defer ul.l.createMu.Unlock()
	if ul.u.state.method != "LOCK" {
		// x/net/webdav takes a temporary lock for every write without an
		// If header, to find explicit locks of others. Kept for the whole
		// request, those temporary locks make concurrent writes in one
		// folder fail with 423 (rclone with --transfers 8 does that). So
		// the probe is taken and given back at once: it still finds every
		// explicit lock, and probes never meet each other.
		tok, err := ul.l.ls.Create(now, details)
		if err != nil {
			return "", err
		}
		ul.l.ls.Unlock(now, tok)
		return probeToken, nil
	}
	tok, err := ul.l.ls.Create(now, details)
	if err == nil {
		ul.l.remember(now, tok, details)
	}
	return tok, err
}

func (ul *userLocks) root(token string) (string, bool) {
	ul.l.mu.Lock()
	defer ul.l.mu.Unlock()
	r, ok := ul.l.roots[token]
	return r.root, ok
}

func (ul *userLocks) Refresh(now time.Time, token string, duration time.Duration) (webdav.LockDetails, error) {
	if r, ok := ul.root(token); !ok || !ul.visible(r) {
		return webdav.LockDetails{}, webdav.ErrNoSuchLock
	}
	ld, err := ul.l.ls.Refresh(now, token, duration)
	if err == nil {
		ul.l.remember(now, token, ld)
	}
	ld.Root = ul.outer(ld.Root)
	return ld, err
}

func (ul *userLocks) Unlock(now time.Time, token string) error {
	if token == probeToken {
		return nil
	}
	r, ok := ul.root(token)
	if !ok {
		return webdav.ErrNoSuchLock
	}
	if !ul.visible(r) {
		return webdav.ErrForbidden
	}
	err := ul.l.ls.Unlock(now, token)
	if err == nil || err == webdav.ErrNoSuchLock {
		ul.l.mu.Lock()
		delete(ul.l.roots, token)
		ul.l.mu.Unlock()
	}
	return err
}

// discover lists the locks that cover a DAV name, for the lockdiscovery
// property (x/net/webdav leaves it empty): a lock on the name itself or a
// depth-infinity lock on a folder above it.
func (ul *userLocks) discover(now time.Time, name string) []lockRoot {
	inner := ul.inner(name)
	ul.l.mu.Lock()
	defer ul.l.mu.Unlock()
	var out []lockRoot
	for tok, r := range ul.l.roots {
		if !r.expires.IsZero() && now.After(r.expires) {
			continue
		}
		if r.root == inner || (!r.details.ZeroDepth && strings.HasPrefix(inner, r.root+"/")) {
			r.details.Root = tok // the token rides along in Root
			out = append(out, r)
		}
	}
	return out
}

// lockDiscoveryXML renders active locks as the inner XML of
// DAV:lockdiscovery (RFC 4918 15.8).
func (ul *userLocks) lockDiscoveryXML(now time.Time, prefix string, locks []lockRoot) []byte {
	var b strings.Builder
	for _, l := range locks {
		depth := "infinity"
		if l.details.ZeroDepth {
			depth = "0"
		}
		timeout := "Infinite"
		if !l.expires.IsZero() {
			timeout = fmt.Sprintf("Second-%d", max(int64(l.expires.Sub(now)/time.Second), 0))
		}
		fmt.Fprintf(&b, `<D:activelock xmlns:D="DAV:"><D:locktype><D:write/></D:locktype>`+
			`<D:lockscope><D:exclusive/></D:lockscope><D:depth>%s</D:depth>`, depth)
		if l.details.OwnerXML != "" {
			fmt.Fprintf(&b, `<D:owner>%s</D:owner>`, l.details.OwnerXML)
		}
		fmt.Fprintf(&b, `<D:timeout>%s</D:timeout><D:locktoken><D:href>%s</D:href></D:locktoken>`+
			`<D:lockroot><D:href>%s</D:href></D:lockroot></D:activelock>`,
			timeout, xmlEscape(l.details.Root), xmlEscape(prefix+ul.outer(l.root)))
	}
	return []byte(b.String())
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
