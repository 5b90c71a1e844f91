// Package davd serves the WebDAV home and group folders and the hand-ins. It owns the
// mapping of the DAV namespace onto the store's virtual file trees:
//
//	/dav/                   lists "home" and "groups"
//	/dav/home/…             the logged-in account's home tree
//	/dav/groups/            one folder per group she is a member or teacher of
//	/dav/groups/<g>/…       the group's tree
//	/dav/abgaben/…          homework hand-ins, read-only (homework.go)
//
// Nothing else is reachable: the namespace is built per request from the
// authenticated account, so no path or header can name another account's
// home, and no request path ever becomes a host path.
//
// golang.org/x/net/webdav does the protocol; this package wraps it the
// net/http way (auth.go, limits.go, response.go) to add Basic
// authentication, SIZE-20MB, quotas, PUT preconditions and the fixes for
// the library's known gaps, and implements its FileSystem (fs.go, file.go).
// Every body but a PUT's is bounded by xml_body_bytes (body.go). davd
// answers LOCK and UNLOCK itself from its own lock table (locks.go,
// lockmethods.go: exclusive and shared locks, tokens bound to the account
// that took them, timeouts and scope by role) and evaluates the If header
// (ifheader.go) before the library runs. The table is written through to
// the store, so locks survive a restart; PROPFIND reports them in
// lockdiscovery.
package davd

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/webdav"

	"schulhof/internal/auth"
	"schulhof/internal/connlimit"
	"schulhof/internal/metrics"
	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// Options configure the handler.
type Options struct {
	Store  *store.Store
	Auth   *auth.Verifier
	Policy *policy.Engine
	Logger *slog.Logger
	// Prefix is where the handler is mounted, "/dav/" by default.
	Prefix string
	// Quotas by role and for group folders; zero value: policy.DefaultQuotas.
	Quotas *policy.Quotas
	// SessionTTL is how long one Basic-auth login is reused before the
	// password goes through auth.Verify (and the login log) again; 0: 5 min.
	SessionTTL time.Duration
	Now        func() time.Time // tests
	// Metrics counts requests and refusals; nil: none.
	Metrics *metrics.Metrics
}

// Handler serves WebDAV; it is safe for concurrent use.
type Handler struct {
	opt      Options
	prefix   string // without the trailing slash, as webdav.Handler wants it
	locks    *lockTable
	sessions *auth.BasicCache
	uploads  uploads
	inflight inflight // requests in flight, ended on a lock or withdrawal (revoke.go)

	beforeOpen func() // tests: runs between a GET's lookup and its blob open
	putStarted func() // tests: runs when a PUT's body is about to be read
}

// New returns the WebDAV handler.
func New(opt Options) *Handler {
	if opt.Prefix == "" {
		opt.Prefix = "/dav/"
	}
	if opt.Policy == nil {
		opt.Policy = policy.NewEngine()
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Quotas == nil {
		q := policy.DefaultQuotas()
		opt.Quotas = &q
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 5 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	h := &Handler{
		opt:    opt,
		prefix: strings.TrimSuffix(opt.Prefix, "/"),
	}
	h.locks = newLockTable(opt.Store, opt.Logger, opt.Now())
	h.sessions = auth.NewBasicCache(opt.SessionTTL, opt.Now)
	if opt.Store != nil {
		go h.watch()
	}
	return h
}

// ServeHTTP authenticates, applies the limits, and hands the request to
// x/net/webdav over the account's own namespace.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Whatever a response carries (a file, a listing, an error that
	// echoes a name), a browser neither sniffs nor runs it here.
	usercontent.Inert(w.Header())
	if bad := unsafePath(r.URL.Path); bad {
		http.Error(w, "invalid path", http.StatusBadRequest)
		return
	}
	acct, d := h.authenticate(r)
	if !d.Allow {
		h.refuse(w, r, d)
		return
	}
	// The connection has logged in: it no longer counts against its
	// address's cap on connections before login (LIMIT-CONN).
	connlimit.AuthenticatedContext(r.Context())
	st := &reqState{method: r.Method}
	defer st.done()
	req := h.inflight.add(acct)
	defer h.inflight.remove(req)
	fs := &userFS{h: h, acct: acct, state: st, handins: -1}
	rw := &responseMapper{ResponseWriter: w, h: h, r: r, state: st, req: req}
	if !h.boundBody(rw, r) {
		return
	}
	if !h.preflight(rw, r, fs) {
		return
	}
	dav := &webdav.Handler{
		Prefix:     h.prefix,
		FileSystem: fs,
		LockSystem: probeLocks{},
		Logger: func(r *http.Request, err error) {
			if err != nil {
				h.opt.Logger.DebugContext(r.Context(), "dav", "method", r.Method, "path", r.URL.Path, "account", acct.Name, "err", err)
			}
		},
	}
	dav.ServeHTTP(rw, r)
	if r.Method == http.MethodDelete || r.Method == "MOVE" {
		if n, p := fs.lockName(strings.TrimPrefix(r.URL.Path, h.prefix)); n != "" {
			if _, err := h.opt.Store.FileStat(p.tree, p.path); errors.Is(err, store.ErrNotFound) {
				h.locks.dropGone(n)
			}
		}
	}
}

// unsafePath refuses "." and ".." segments outright instead of cleaning
// them: a request that needs them is not from a file manager. Backslashes
// and control characters are refused too: no client can show such names,
// and on Windows "..\x" reads as a path.
func unsafePath(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == "." || s == ".." || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
			return true
		}
	}
	return false
}
