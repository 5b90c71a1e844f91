// Package imapd serves IMAP (go-imap/v2 imapserver) on the store: one
// session per connection, one shared view per open mailbox.
//
// Ordering: every change to a mailbox (SMTP delivery, another session's
// STORE, EXPUNGE, APPEND, MOVE) reaches the mailbox's MailboxTracker only
// through the store's change feed, which delivers in commit order, so
// sequence numbers never go out of step with the library's bookkeeping.
// A session that changed a mailbox itself waits until the feed has caught
// up with its own commit before answering, so its untagged EXPUNGE/EXISTS
// responses come with the command that caused them.
//
// Unlike the library's imapmemserver: MOVE sends each EXPUNGE once (through
// the tracker, never also through MoveWriter); EXAMINE is truly read-only
// (no STORE, EXPUNGE, MOVE, no implicit \Seen); system flags keep their
// RFC spelling and keywords the client's; FLAGS and PERMANENTFLAGS list
// every settable flag, not only those in use.
package imapd

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/internal/auth"
	"schulhof/internal/logid"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// Options configure a Server.
type Options struct {
	Store  *store.Store
	Auth   *auth.Verifier
	Policy *policy.Engine
	// TLSConfig enables STARTTLS. Implicit TLS listeners are wrapped by the
	// caller (tls.NewListener) and passed to Serve.
	TLSConfig *tls.Config
	Logger    *slog.Logger
	// Debug receives the raw protocol (tests only: it contains passwords).
	Debug interface{ Write([]byte) (int, error) }
	// Metrics counts commands and refusals; nil: none.
	Metrics *metrics.Metrics
}

// Server is an IMAP server. Serve may be called for several listeners.
type Server struct {
	opt Options
	srv *imapserver.Server // loopback connections: plain LOGIN allowed
	tls *imapserver.Server // all others: LOGINDISABLED until TLS
	// Serve hands accepted connections to the two servers through these.
	local, remote *chanListener
	serving       sync.WaitGroup
	// open counts sessions until their Close ran (it may still write:
	// the \Recent mark), so Close returns only after the last write.
	open sync.WaitGroup
	reg  *registry
	log  *slog.Logger
	// texts caches decoded message text for SEARCH BODY/TEXT.
	texts *textCache

	mu        sync.Mutex
	sessions  map[string]map[*session]struct{} // account → open sessions
	listeners []net.Listener
	closed    bool
}

// New creates a server and starts following the store's change feed.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Policy == nil {
		opt.Policy = policy.NewEngine()
	}
	opt.Store.SetMailLimits(mailLimits(opt.Policy))
	s := &Server{opt: opt, log: opt.Logger, sessions: map[string]map[*session]struct{}{},
		texts: newTextCache(64 << 20)}
	s.reg = newRegistry(opt.Store, opt.Logger, s.accountChanged, s.recheckAccounts)
	iopt := &imapserver.Options{
		NewSession: s.newSession,
		Caps: imap.CapSet{
			imap.CapIMAP4rev1:        {},
			imap.CapNamespace:        {},
			imap.CapUIDPlus:          {},
			imap.CapMove:             {},
			imap.CapSpecialUse:       {},
			imap.CapCreateSpecialUse: {},
			imap.CapListExtended:     {},
			imap.CapListStatus:       {},
			imap.CapStatusSize:       {},
			imap.CapChildren:         {},
			imap.CapESearch:          {},
			imap.CapLiteralPlus:      {},
			imap.CapIMAP4rev2:        {},
			imap.CapSearchRes:        {},
			imap.CapBinary:           {},
			imap.CapUnauthenticate:   {},
			imap.CapID:               {},
			imap.CapCondStore:        {},
			imap.CapQResync:          {},
		},
		Logger:       slogPrintf{opt.Logger},
		TLSConfig:    opt.TLSConfig,
		InsecureAuth: true,
		CommandHook:  func(name string) { opt.Metrics.Command(metrics.IMAP, name) },
	}
	if opt.Debug != nil {
		iopt.DebugWriter = opt.Debug
	}
	s.srv = imapserver.New(iopt)
	secure := *iopt
	secure.InsecureAuth = false
	s.tls = imapserver.New(&secure)
	s.local, s.remote = newChanListener(), newChanListener()
	s.serving.Add(2)
	go func() { defer s.serving.Done(); s.srv.Serve(s.local) }()
	go func() { defer s.serving.Done(); s.tls.Serve(s.remote) }()
	return s
}

// Serve accepts connections on ln until Close. Loopback connections may
// log in without TLS; others must use TLS (implicit or STARTTLS) first.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		target := s.remote
		if isLoopback(c) {
			target = s.local
		}
		if !target.offer(c) {
			c.Close()
			return net.ErrClosed
		}
	}
}

// Close stops listening and ends every session.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	lns := s.listeners
	s.listeners = nil
	s.mu.Unlock()
	for _, ln := range lns {
		ln.Close()
	}
	// The library's Serve must have returned before its Close runs.
	s.local.Close()
	s.remote.Close()
	s.serving.Wait()
	err := s.srv.Close() // ends the open connections
	s.tls.Close()
	done := make(chan struct{})
	go func() { s.open.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
		s.log.Warn("imap: sessions still closing after shutdown")
	}
	s.reg.close()
	return err
}

func (s *Server) newSession(c *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	s.open.Add(1)
	id := logid.New()
	return &session{srv: s, conn: c, log: s.log.With(logid.Key, id), ctx: logid.With(context.Background(), id)}, nil, nil
}

func (s *Server) addSession(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.sessions[ss.account]
	if m == nil {
		m = map[*session]struct{}{}
		s.sessions[ss.account] = m
	}
	m[ss] = struct{}{}
}

func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.sessions[ss.account]; m != nil {
		delete(m, ss)
		if len(m) == 0 {
			delete(s.sessions, ss.account)
		}
	}
}

// accountChanged ends the sessions an account change makes invalid:
// all of them when the account is locked or deleted, those that logged in
// with an older password when the password changed (an admin reset or the
// user's own change).
func (s *Server) accountChanged(e store.Event) {
	var cur *store.Account
	if e.Kind == store.AccountChanged {
		a, ok := e.Data.(store.Account)
		if !ok {
			return
		}
		cur = &a
	}
	s.mu.Lock()
	victims := map[*session]string{}
	for ss := range s.sessions[e.Account] {
		if reason := endsSession(cur, ss.pwHash); reason != "" {
			victims[ss] = reason
		}
	}
	s.mu.Unlock()
	for ss, reason := range victims {
		s.log.Info("imap session closed", "account", e.Account, "reason", e.Kind, "why", reason)
		go ss.kill(reason) // never block the feed on a slow client
	}
}

// endsSession is the BYE text for a session that logged in with password
// hash pwHash when the account is now cur (nil: deleted), or "" when the
// session may go on.
func endsSession(cur *store.Account, pwHash string) string {
	if cur == nil {
		return "[ACCOUNT-LOCKED] Das Konto ist gesperrt."
	}
	// A lock or a withdrawn consent (CONSENT-PLATFORM, CONSENT-COMMS).
	if d := auth.SessionAllowed(cur, policy.ServiceMail); !d.Allow {
		return d.String()
	}
	switch {
	case cur.PasswordHash != pwHash:
		return "Das Passwort wurde geändert; bitte mit dem neuen Passwort anmelden."
	}
	return ""
}

// recheckAccounts ends the sessions of accounts locked, deleted or given a
// new password while the feed's events were lost (overflow).
func (s *Server) recheckAccounts() {
	s.mu.Lock()
	var names []string
	for name := range s.sessions {
		names = append(names, name)
	}
	s.mu.Unlock()
	for _, name := range names {
		a, err := s.opt.Store.Account(name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.accountChanged(store.Event{Kind: store.AccountDeleted, Account: name})
		case err == nil:
			s.accountChanged(store.Event{Kind: store.AccountChanged, Account: name, Data: *a})
		}
	}
}

type slogPrintf struct{ l *slog.Logger }

func (p slogPrintf) Printf(format string, args ...any) {
	p.l.Warn("imapserver", "msg", sprintf(format, args...))
}

// killTimeout bounds how long a session being ended may take to flush its
// BYE before the connection is cut.
const killTimeout = 200 * time.Millisecond

// closeWait bounds how long Close waits for sessions to finish closing.
const closeWait = 5 * time.Second
