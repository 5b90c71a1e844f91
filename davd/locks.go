package davd

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/webdav"

	"schulhof/policy"
	"schulhof/store"
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
// Every change is also written to the store (store.DavLock), and the
// table is loaded from it at start, so a restart keeps the locks.
//
// DAV names are per account ("/home/x" is a different file for everyone),
// so locks are kept under the store's tree names: root "/h:<account>/x",
// "/g:<group>/x" (see userFS.lockName).
type lockTable struct {
	st  *store.Store
	log *slog.Logger

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

// newLockTable loads the locks of the store that have not expired.
func newLockTable(st *store.Store, log *slog.Logger, now time.Time) *lockTable {
	t := &lockTable{st: st, log: log, byToken: map[string]*davLock{}, byTree: map[string]map[string]*davLock{},
		perAccount: map[string]int64{}, lastSweep: now}
	saved, err := st.DavLocks(now)
	if err != nil {
		log.Error("dav locks: load", "err", err)
	}
	for _, s := range saved {
		t.insertLocked(&davLock{token: s.Token, tree: s.Tree, root: s.Root, href: s.Href, zeroDepth: s.ZeroDepth,
			shared: s.Shared, ownerXML: s.Owner, principal: s.Account, role: policy.Role(s.Role),
			timeout: s.Timeout, expires: s.Expires})
	}
	if err := st.PurgeDavLocks(now); err != nil {
		log.Error("dav locks: purge", "err", err)
	}
	return t
}

func (t *lockTable) insertLocked(l *davLock) {
	t.byToken[l.token] = l
	if t.byTree[l.tree] == nil {
		t.byTree[l.tree] = map[string]*davLock{}
	}
	t.byTree[l.tree][l.token] = l
	t.perAccount[l.principal]++
}

// save writes a lock to the store (outside t.mu: it waits for a commit).
func (t *lockTable) save(l *davLock) error {
	return t.st.PutDavLock(store.DavLock{Token: l.token, Account: l.principal, Role: string(l.role), Tree: l.tree,
		Root: l.root, Href: l.href, ZeroDepth: l.zeroDepth, Shared: l.shared, Owner: l.ownerXML,
		Timeout: l.timeout, Expires: l.expires})
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
	go func() {
		if err := t.st.PurgeDavLocks(now); err != nil {
			t.log.Error("dav locks: purge", "err", err)
		}
	}()
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

// errTooMany: the account holds locks_per_account locks already.
type errTooMany struct{ held int64 }

func (errTooMany) Error() string { return "too many locks" }

// create adds l unless a lock it overlaps conflicts with it: an exclusive
// lock conflicts with every other, a shared one with exclusive ones. Two
// locks overlap when one covers the other's root.
func (t *lockTable) create(now time.Time, l *davLock, maxHeld int64) error {
	t.mu.Lock()
	t.pruneLocked(now, l.tree)
	if n := t.perAccount[l.principal]; n >= maxHeld {
		// Checked again here: concurrent LOCKs passed the policy's check
		// together.
		t.mu.Unlock()
		return errTooMany{n}
	}
	for _, o := range t.byTree[l.tree] {
		if (o.covers(l.root) || l.covers(o.root)) && !(o.shared && l.shared) {
			c := *o
			t.mu.Unlock()
			return errConflict{&c}
		}
	}
	l.token = newToken()
	l.expires = now.Add(l.timeout)
	t.insertLocked(l)
	c := *l
	t.mu.Unlock()
	if err := t.save(&c); err != nil {
		t.remove(l.token)
		return err
	}
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
	l := t.byToken[token]
	if l == nil || !now.Before(l.expires) {
		t.mu.Unlock()
		return nil
	}
	l.timeout, l.expires = timeout, now.Add(timeout)
	c := *l
	t.mu.Unlock()
	if err := t.save(&c); err != nil {
		t.log.Error("dav locks: save refresh", "err", err)
	}
	return &c
}

func (t *lockTable) remove(token string) bool {
	t.mu.Lock()
	l := t.byToken[token]
	if l != nil {
		t.removeLocked(l)
	}
	t.mu.Unlock()
	if l != nil {
		if err := t.st.DeleteDavLock(l.principal, token); err != nil {
			t.log.Error("dav locks: delete", "err", err)
		}
	}
	return l != nil
}

// dropGone removes the locks rooted at or below n once the resource there
// is gone (DELETE, the source of a MOVE): RFC 4918 7.7 and 9.9.4, a lock
// does not move with its resource. Left in the table, it would keep the
// name reserved for its holder until it expires.
func (t *lockTable) dropGone(n string) {
	t.mu.Lock()
	var gone []*davLock
	for _, l := range t.byTree[treeOf(n)] {
		if l.root == n || isBelow(l.root, n) {
			gone = append(gone, l)
		}
	}
	t.mu.Unlock()
	for _, l := range gone {
		t.remove(l.token)
	}
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
