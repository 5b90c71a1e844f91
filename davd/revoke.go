package davd

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// Requests in flight end when their account may no longer use files: a
// lock, a withdrawn platform consent, the account's erasure, a new
// password. A download stops at its next write, an upload at its next
// read; the connection is cut because the response is short. Requests
// that come after are refused by authenticate.

var errRevoked = errors.New("davd: the account's access ended during the request")

// request is one authenticated request in flight.
type request struct {
	account string
	pwHash  string // the hash it authenticated with
	revoked atomic.Bool
	why     atomic.Pointer[policy.Decision] // set before revoked
}

// inflight tracks the requests in flight per account.
type inflight struct {
	mu     sync.Mutex
	byAcct map[string]map[*request]struct{}
}

func (f *inflight) add(a *store.Account) *request {
	r := &request{account: a.Name, pwHash: a.PasswordHash}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byAcct == nil {
		f.byAcct = map[string]map[*request]struct{}{}
	}
	if f.byAcct[a.Name] == nil {
		f.byAcct[a.Name] = map[*request]struct{}{}
	}
	f.byAcct[a.Name][r] = struct{}{}
	return r
}

func (f *inflight) remove(r *request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.byAcct[r.account], r)
	if len(f.byAcct[r.account]) == 0 {
		delete(f.byAcct, r.account)
	}
}

// revoke ends the account's requests that cur (nil: deleted) no longer
// allows and reports whether any was.
func (f *inflight) revoke(name string, cur *store.Account) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ended := false
	for r := range f.byAcct[name] {
		d := policy.Deny(policy.AccountLocked, "Das Konto gibt es nicht mehr.")
		if cur != nil {
			d = auth.SessionAllowed(cur, policy.ServiceFiles)
			if d.Allow && cur.PasswordHash != r.pwHash {
				d = policy.Deny(policy.AuthFailed, "Das Passwort wurde geändert; bitte neu anmelden.")
			}
		}
		if !d.Allow {
			r.why.CompareAndSwap(nil, &d) // the first reason stays
			r.revoked.Store(true)
			ended = true
		}
	}
	return ended
}

func (f *inflight) accounts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.byAcct {
		out = append(out, n)
	}
	return out
}

// watch follows the change feed until the store closes; after an
// overflow it checks every account with requests in flight.
func (h *Handler) watch() {
	filter := func(e store.Event) bool { return e.Kind == store.AccountChanged || e.Kind == store.AccountDeleted }
	for {
		sub := h.opt.Store.Feed().Subscribe(1024, filter)
		for e := range sub.C {
			h.accountChanged(e)
		}
		if !sub.Overflowed() {
			return // the store closed
		}
		for _, n := range h.inflight.accounts() {
			a, err := h.opt.Store.Account(n)
			if errors.Is(err, store.ErrNotFound) {
				h.inflight.revoke(n, nil)
			} else if err == nil {
				h.inflight.revoke(n, a)
			}
		}
	}
}

func (h *Handler) accountChanged(e store.Event) {
	var cur *store.Account
	if e.Kind == store.AccountChanged {
		a, ok := e.Data.(store.Account)
		if !ok {
			return
		}
		cur = &a
	}
	if h.inflight.revoke(e.Account, cur) {
		h.opt.Logger.Info("dav requests ended", "account", e.Account, "reason", e.Kind)
	}
	if cur == nil || !auth.SessionAllowed(cur, policy.ServiceFiles).Allow {
		h.sessions.DropAccount(e.Account)
	}
}

// revocableBody stops an upload whose request was revoked.
type revocableBody struct {
	io.ReadCloser
	req *request
}

func (b *revocableBody) Read(p []byte) (int, error) {
	if b.req.revoked.Load() {
		return 0, b.req.why.Load().Err() // the refusal, answered by the response mapper
	}
	return b.ReadCloser.Read(p)
}

// revocableFile stops a download whose request was revoked.
type revocableFile struct {
	io.ReadSeeker
	req *request
}

func (f *revocableFile) Read(p []byte) (int, error) {
	if f.req.revoked.Load() {
		return 0, errRevoked
	}
	return f.ReadSeeker.Read(p)
}
