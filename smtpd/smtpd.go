// Package smtpd is Schulhof's SMTP submission server (go-smtp backend).
// It accepts mail only from authenticated accounts, only for the school's
// own addresses (MAIL-INTERNAL), within the size (SIZE-20MB) and mass-mail
// (MAIL-MASS) limits, with header senders it may use (MAIL-SENDER) and a
// header and MIME structure within the bounds (LIMIT-HEADER, LIMIT-MIME),
// and delivers it into the store before it answers 250. Nothing is ever
// relayed. Files by concern: auth.go, mail.go (MAIL FROM), rcpt.go,
// data.go (DATA), header.go (reading, checking and rewriting the header),
// scan.go (the one pass over the message), linger.go, errors.go.
package smtpd

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"schulhof/internal/auth"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// Options configure a Server.
type Options struct {
	Store  *store.Store
	Auth   *auth.Verifier
	Policy *policy.Engine
	Domain string // the school's mail domain
	// Hostname is shown in the greeting and Received headers (default:
	// the machine's host name).
	Hostname string
	// Limits are MAIL-MASS per role (default policy.DefaultMailLimits).
	Limits map[policy.Role]policy.MailLimits
	// MaxMessageBytes, if set, is a hard cap advertised as "SIZE n" and
	// enforced by go-smtp itself (whose refusal does not name the rule).
	// 0: "SIZE" without a number, and every message is checked against its
	// account's own SIZE-20MB limit (exceptions included) with a refusal
	// naming the rule, at MAIL (SIZE=) or while the data arrives.
	MaxMessageBytes int64
	// TLSConfig enables STARTTLS. Implicit TLS listeners are wrapped by
	// the caller.
	TLSConfig *tls.Config
	Logger    *slog.Logger
	Now       func() time.Time // tests
	// Metrics counts commands, deliveries and refusals; nil: none.
	Metrics *metrics.Metrics
}

// Server is one SMTP submission service; Serve may run on several
// listeners (587 with STARTTLS, 465 with implicit TLS).
type Server struct {
	opt  Options
	log  *slog.Logger
	smtp *smtp.Server

	mu      sync.Mutex
	conns   map[*smtp.Conn]*session // for closing sessions of locked accounts
	sub     *store.Subscription
	closing bool
	done    chan struct{}
}

// New creates a server.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Policy == nil {
		opt.Policy = policy.NewEngine()
	}
	if opt.Limits == nil {
		opt.Limits = policy.DefaultMailLimits()
	}
	if opt.Hostname == "" {
		opt.Hostname, _ = os.Hostname()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{opt: opt, log: opt.Logger, conns: map[*smtp.Conn]*session{}, done: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = opt.Hostname
	srv.MaxMessageBytes = opt.MaxMessageBytes // 0: no library limit, see Options
	// LIMIT-HEADER line_bytes, for commands and DATA lines alike; an
	// over-long DATA line is refused in Data with a 5xx naming the bound.
	srv.MaxLineLength = int(opt.Policy.Bound(policy.LineBytes))
	// Plain-text AUTH is checked per connection (TLS or loopback) in
	// AuthMechanisms/Auth; the library only knows "always" or "never".
	srv.AllowInsecureAuth = true
	srv.TLSConfig = opt.TLSConfig
	srv.ReadTimeout = 5 * time.Minute
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slogPrintf{opt.Logger}
	srv.CommandHook = func(cmd string) { opt.Metrics.Command(metrics.SMTP, cmd) }
	s.smtp = srv
	s.sub = s.subscribe()
	go s.watchAccounts()
	return s
}

// Serve accepts connections on ln until Close.
func (s *Server) Serve(ln net.Listener) error { return s.smtp.Serve(ln) }

// Close stops the listeners and ends open sessions.
func (s *Server) Close() error {
	err := s.smtp.Close()
	s.mu.Lock()
	s.closing = true
	sub := s.sub
	s.mu.Unlock()
	sub.Close()
	<-s.done
	return err
}

// watchAccounts ends the sessions of locked or deleted accounts. If it
// ever falls behind the feed, it subscribes again and checks every open
// session's account in the store.
func (s *Server) watchAccounts() {
	defer close(s.done)
	for {
		s.mu.Lock()
		sub := s.sub
		s.mu.Unlock()
		for e := range sub.C {
			// A lock or a withdrawn consent (CONSENT-PLATFORM,
			// CONSENT-COMMS) ends the account's sessions.
			if a, ok := e.Data.(store.Account); e.Kind == store.AccountChanged && (!ok || auth.SessionAllowed(&a, policy.ServiceMail).Allow) {
				continue
			}
			s.closeSessions(func(name string) bool { return name == e.Account })
		}
		if !sub.Overflowed() {
			return // Close
		}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			return
		}
		s.sub = s.subscribe()
		s.mu.Unlock()
		s.closeSessions(func(name string) bool {
			a, err := s.opt.Store.Account(name)
			return errors.Is(err, store.ErrNotFound) || err == nil && !auth.SessionAllowed(a, policy.ServiceMail).Allow
		})
	}
}

func (s *Server) subscribe() *store.Subscription {
	return s.opt.Store.Feed().Subscribe(1024, func(e store.Event) bool {
		return e.Kind == store.AccountChanged || e.Kind == store.AccountDeleted
	})
}

// closeSessions cuts the connections of authenticated sessions whose
// account matches.
func (s *Server) closeSessions(match func(account string) bool) {
	s.mu.Lock()
	var victims []*smtp.Conn
	for c, ss := range s.conns {
		if ss.account != nil && match(ss.account.Name) {
			victims = append(victims, c)
		}
	}
	s.mu.Unlock()
	for _, c := range victims {
		c.Conn().Close()
	}
}

type slogPrintf struct{ l *slog.Logger }

func (p slogPrintf) Printf(format string, args ...any) {
	p.l.Warn("smtp", "msg", sprintf(format, args...))
}

func (p slogPrintf) Println(args ...any) { p.l.Warn("smtp", "msg", sprint(args...)) }
