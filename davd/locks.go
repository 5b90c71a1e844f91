package davd

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"schulhof/policy"
)

// lockTable holds every WebDAV write lock of the server, exclusive and
// shared (RFC 4918 6, 7). davd answers LOCK and UNLOCK itself
// (lockmethods.go) and checks submitted tokens before x/net/webdav sees a
// write (ifheader.go): the library knows only exclusive locks and lets
// anyone who knows a token use it.
//
// A lock belongs to the account (the principal) that took it: its token
// works only for that account; others see the lock in lockdiscovery but
// not its token. Every lock has a finite timeout (policy.CheckLock caps
// it) and is pruned when it expires: on every access to its tree, and in a
// sweep over the whole table at most once a minute.
//
// DAV names are per account ("/home/x" is a different file for everyone),
// so locks are kept under the store's tree names: root "/h:<account>/x",
// "/g:<group>/x" (see userFS.lockName).
type lockTable struct {
	mu         sync.Mutex
	byToken    map[string]*davLock
	byTree     map[string]map[string]*davLock // tree → token → lock
	perAccount map[string]int64
	lastSweep  time.Time
}

type davLock struct {
	token     string
	tree      string // "h:<account>" or "g:<group>"
	root      string // "/<tree><path>", no trailing slash
	href      string // the DAV name it was taken on, for lockroot
	zeroDepth bool
	shared    bool
	ownerXML  string
	principal string      // the account that took it
	role      policy.Role // its role then
	timeout   time.Duration
	expires   time.Time
}

func newLockTable() *lockTable {
	return &lockTable{byToken: map[string]*davLock{}, byTree: map[string]map[string]*davLock{},
		perAccount: map[string]int64{}}
}

// covers: the lock applies to the resource with lock name n.
func (l *davLock) covers(n string) bool {
	return l.root == n || (!l.zeroDepth && isBelow(n, l.root))
}

// isBelow: n is a member, at any depth, of the collection dir.
func isBelow(n, dir string) bool { return strings.HasPrefix(n, dir+"/") }

// treeOf is the tree part of a lock name.
func treeOf(n string) string {
	t, _, _ := strings.Cut(strings.TrimPrefix(n, "/"), "/")
	return t
}

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	// RFC 4918 6.5: a URI unique across all resources for all time.
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// pruneLocked drops the expired locks of one tree, and of every tree once a
// minute. The caller holds t.mu.
func (t *lockTable) pruneLocked(now time.Time, tree string) {
	for _, l := range t.byTree[tree] {
		if !now.Before(l.expires) {
			t.removeLocked(l)
		}
	}
	if now.Sub(t.lastSweep) < time.Minute {
		return
	}
	t.lastSweep = now
	for _, l := range t.byToken {
		if !now.Before(l.expires) {
			t.removeLocked(l)
		}
	}
}

func (t *lockTable) removeLocked(l *davLock) {
	if _, ok := t.byToken[l.token]; !ok {
		return
	}
	delete(t.byToken, l.token)
	if m := t.byTree[l.tree]; m != nil {
		delete(m, l.token)
		if len(m) == 0 {
			delete(t.byTree, l.tree)
		}
	}
	if t.perAccount[l.principal]--; t.perAccount[l.principal] <= 0 {
		delete(t.perAccount, l.principal)
	}
}

// held is the number of live locks of an account.
func (t *lockTable) held(now time.Time, account string) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now, "")
	return t.perAccount[account]
}

// errConflict: a lock in the way of a new one (RFC 4918 9.10.6: 423 with
// no-conflicting-lock).
type errConflict struct{ with *davLock }

func (errConflict) Error() string { return "conflicting lock" }

// create adds l unless a lock it overlaps conflicts with it: an exclusive
// lock conflicts with every other, a shared one with exclusive ones. Two
// locks overlap when one covers the other's root.
func (t *lockTable) create(now time.Time, l *davLock) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now, l.tree)
	for _, o := range t.byTree[l.tree] {
		if (o.covers(l.root) || l.covers(o.root)) && !(o.shared && l.shared) {
			return errConflict{o}
		}
	}
	l.token = newToken()
	l.expires = now.Add(l.timeout)
	t.byToken[l.token] = l
	if t.byTree[l.tree] == nil {
		t.byTree[l.tree] = map[string]*davLock{}
	}
	t.byTree[l.tree][l.token] = l
	t.perAccount[l.principal]++
	return nil
}

// get returns a copy of the live lock with token, or nil.
func (t *lockTable) get(now time.Time, token string) *davLock {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.byToken[token]
	if l == nil {
		return nil
	}
	t.pruneLocked(now, l.tree)
	if _, ok := t.byToken[token]; !ok {
		return nil
	}
	c := *l
	return &c
}

// refresh gives a live lock a new timeout and returns a copy of it.
func (t *lockTable) refresh(now time.Time, token string, timeout time.Duration) *davLock {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.byToken[token]
	if l == nil || !now.Before(l.expires) {
		return nil
	}
	l.timeout, l.expires = timeout, now.Add(timeout)
	c := *l
	return &c
}

func (t *lockTable) remove(token string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.byToken[token]
	if l != nil {
		t.removeLocked(l)
	}
	return l != nil
}

// find returns copies of the live locks of n's tree that cover n, or
// with below also those rooted inside n (a DELETE or MOVE of a folder
// changes its members), or with members the depth-0 locks of n's folder
// (RFC 4918 7.4: adding or removing a member changes the folder).
func (t *lockTable) find(now time.Time, n string, below, member bool) []davLock {
	tree := treeOf(n)
	parent := n[:max(strings.LastIndexByte(n, '/'), 0)]
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now, tree)
	var out []davLock
	for _, l := range t.byTree[tree] {
		if l.covers(n) || (below && isBelow(l.root, n)) || (member && l.root == parent) {
			out = append(out, *l)
		}
	}
	return out
}

// probeLocks is what x/net/webdav gets as its LockSystem. davd has
// checked locks and the If header before the library runs (and removed
// the header), so the library's temporary locks of a write are no-ops:
// they never make concurrent writes in one folder fail with 423.
type probeLocks struct{}

const probeToken = "schulhof:probe"

func (probeLocks) Confirm(time.Time, string, string, ...webdav.Condition) (func(), error) {
	return func() {}, nil
}
func (probeLocks) Create(time.Time, webdav.LockDetails) (string, error) { return probeToken, nil }
func (probeLocks) Refresh(time.Time, string, time.Duration) (webdav.LockDetails, error) {
	return webdav.LockDetails{}, webdav.ErrNoSuchLock
}
func (probeLocks) Unlock(time.Time, string) error { return nil }
