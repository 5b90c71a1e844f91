// Package web owns the one HTTPS listener of Schulhof: its ServeMux, TLS,
// timeouts and what every response gets (HSTS, pacing of slow clients,
// closing after ambiguous framing). It mounts the WebDAV folders (davd)
// at /dav/; other pages (password change, chat, client configuration)
// are mounted with Mount.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"schulhof/caldavd"
	"schulhof/carddavd"
	"schulhof/davd"
	"schulhof/internal/auth"
	"schulhof/internal/calendar"
	"schulhof/internal/connlimit"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// Options configure the HTTPS listener.
type Options struct {
	Store  *store.Store
	Auth   *auth.Verifier
	Policy *policy.Engine
	Logger *slog.Logger
	// TLS serves HTTPS (with HTTP/2); nil serves plain HTTP, for tests on
	// loopback only.
	TLS *tls.Config
	// Quotas of the WebDAV folders; nil: policy.DefaultQuotas.
	Quotas *policy.Quotas
	// Autoconfig, if set, answers mail-client configuration requests
	// (matched by AutoconfigMatch, case-insensitively, on every host name).
	Autoconfig http.Handler
	// Portal, if set, serves the browser portal and chat (portal.go).
	Portal *PortalOptions
	// Metrics counts requests, refusals and chat sockets; nil: none.
	Metrics *metrics.Metrics
	// Calendar is the group calendars' logic (CalDAV at /caldav/ and the
	// portal's /kalender); nil: one over Store is made. Other modules add
	// read-only entries with Calendar.Register before Serve.
	Calendar *calendar.Service
}

// Server is the one HTTPS listener: WebDAV at /dav/, and whatever else is
// mounted (login, password change, chat, client configuration).
type Server struct {
	opt Options
	mux *http.ServeMux
	srv *http.Server

	headerTimeout time.Duration // also bounds the TLS handshake
	// listenTLS is the listener's own copy: net/http adjusts
	// srv.TLSConfig while it sets up HTTP/2, handshakes read this one.
	listenTLS *tls.Config

	portal *portal // the browser portal and chat, if Options.Portal is set
	cal    *calendar.Service
}

// New builds the server with WebDAV mounted at /dav/.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &Server{opt: opt, mux: http.NewServeMux()}
	dav := davd.New(davd.Options{
		Store: opt.Store, Auth: opt.Auth, Policy: opt.Policy, Logger: opt.Logger,
		Prefix: "/dav/", Quotas: opt.Quotas, Metrics: opt.Metrics,
	})
	s.mux.Handle("/dav/", dav)
	// Without the slash too: the mux would answer PROPFIND /dav with a
	// redirect that WebDAV clients do not follow.
	s.mux.Handle("/dav", dav)
	// Windows' WebDAV client asks the server root what it speaks before it
	// maps https://<server>/dav/ as a drive.
	s.mux.HandleFunc("OPTIONS /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("DAV", "1, 2")
		w.Header().Set("MS-Author-Via", "DAV")
		w.Header().Set("Allow", "OPTIONS, GET, HEAD")
		w.WriteHeader(http.StatusOK)
	})
	// Group calendars over CalDAV, with RFC 6764 discovery: the
	// well-known URL and a PROPFIND on the server root both lead to the
	// principal. Subscriptions (.ics by secret token) need no login.
	if opt.Calendar == nil {
		opt.Calendar = calendar.New(opt.Store, opt.Policy, nil)
	}
	s.cal, s.opt.Calendar = opt.Calendar, opt.Calendar
	hc := homeworkCalendar{st: opt.Store, lang: "de"}
	if opt.Portal != nil {
		hc.modules, hc.lang = opt.Portal.Modules, opt.Portal.Language
	}
	opt.Calendar.Register(homeworkProvider, hc)
	cal := caldavd.New(caldavd.Options{Calendar: opt.Calendar, Auth: opt.Auth, Logger: opt.Logger, Metrics: opt.Metrics,
		AddressBookHome: carddavd.HomePath})
	s.mux.Handle(caldavd.Prefix, cal)
	s.mux.Handle(strings.TrimSuffix(caldavd.Prefix, "/"), cal)
	s.mux.Handle("/.well-known/caldav", cal)
	s.mux.Handle("PROPFIND /{$}", cal)
	s.mux.Handle("GET "+caldavd.FeedPrefix, cal.Feed())
	// The user's own password change: the way out of PW-MUST-CHANGE.
	pw := PasswordHandler(opt.Auth, opt.Policy)
	s.mux.Handle("/passwort", pw)
	s.mux.Handle("/password", pw)
	if opt.Portal != nil {
		s.portal = newPortal(opt)
		s.portal.mount(s.mux)
		s.mountCardDAV() // carddav.go
	}
	var root http.Handler = s.mux
	if ac := opt.Autoconfig; ac != nil {
		root = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if AutoconfigMatch(r) {
				ac.ServeHTTP(w, r)
				return
			}
			s.mux.ServeHTTP(w, r)
		})
	}
	pol := opt.Policy
	if pol == nil {
		pol = policy.NewEngine()
	}
	var h http.Handler = newPace(pol).wrap(root)
	h = closeOnAmbiguousFraming(h)
	h = observe(opt.Metrics, h) // request ID and count (observe.go)
	if opt.TLS != nil {
		h = hsts(h)
	}
	s.srv = &http.Server{
		Handler: h,
		// A silent client is cut after the header timeout (the TLS
		// handshake too, see listener); bodies and responses are paced
		// (pace.go). No ReadTimeout/WriteTimeout: they would cut a 20 MB
		// upload on a school's uplink however steadily it moves.
		ReadHeaderTimeout: seconds(pol.Bound(policy.HeaderTimeoutSeconds)),
		IdleTimeout:       seconds(pol.Bound(policy.IdleTimeoutSeconds)),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(opt.Logger.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return withFraming(connlimit.WithConn(ctx, c), c)
		},
	}
	if opt.TLS != nil {
		s.srv.TLSConfig = opt.TLS.Clone()
		if len(s.srv.TLSConfig.NextProtos) == 0 {
			s.srv.TLSConfig.NextProtos = []string{"h2", "http/1.1"}
		}
	}
	s.headerTimeout = s.srv.ReadHeaderTimeout
	if s.srv.TLSConfig != nil {
		s.listenTLS = s.srv.TLSConfig.Clone()
	}
	return s
}

// Calendar is the calendar service (to Register providers on).
func (s *Server) Calendar() *calendar.Service { return s.cal }

// Mount adds a handler to the listener's ServeMux (pattern as in
// http.ServeMux.Handle). Call it before Serve.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler is the whole handler, for tests and for wrapping.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

// Serve accepts connections on ln until Shutdown; it returns nil after
// a shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(newListener(ln, s.listenTLS, s.headerTimeout, s.opt.Logger))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// hsts: browsers that came once over HTTPS never try plain HTTP for a
// year (and so never send a session cookie or password unencrypted).
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// Shutdown stops accepting, waits for running requests until ctx ends,
// then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.portal != nil {
		s.portal.close() // WebSockets are hijacked: Shutdown does not wait for them
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	return err
}
