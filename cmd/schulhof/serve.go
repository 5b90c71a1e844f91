package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/adminsock"
	"schulhof/internal/auth"
	"schulhof/internal/config"
	"schulhof/internal/connlimit"
	"schulhof/internal/logid"
	"schulhof/internal/metrics"
	"schulhof/internal/tlsutil"
	"schulhof/policy"
	"schulhof/store"
	"schulhof/web"
)

// certWatchEvery is how often the certificate files are looked at (two
// stat calls).
const certWatchEvery = 5 * time.Second

// server is everything `serve` wires together around one store.
type server struct {
	cfg    *config.Config
	st     *store.Store
	auth   *auth.Verifier
	policy *policy.Engine
	admin  *admin.Service
	tls    *tls.Config
	log    *slog.Logger
	// conns caps connections before login per client address, over
	// every listener together (LIMIT-CONN).
	conns *connlimit.Limiter
	// metrics and health feed the [metrics] listener (serve_metrics.go).
	metrics *metrics.Metrics
	health  *metrics.Health
}

// daemon is one network listener of the server.
type daemon struct {
	name string // shown in the start-up lines, e.g. "imaps"
	addr string // from [listen]; "" disables it
	tls  bool   // implicit TLS: the listener is wrapped before serve
	// ownTLS: the daemon does TLS itself on this listener (https).
	ownTLS bool
	proto  connlimit.Protocol // how a connection over LIMIT-CONN is refused
	serve  func(net.Listener) error
	close  func() error
}

// daemons lists the listeners of every daemon package: add yours here.
func (s *server) daemons() []daemon {
	var list []daemon
	list = append(list, s.mailDaemons()...)
	list = append(list, s.webDaemon())
	return list
}

// webDaemon is the HTTPS listener (WebDAV at /dav/; mount more with
// w.Mount before it starts). It does its own TLS (HTTP/2 for browsers).
func (s *server) webDaemon() daemon {
	f := s.cfg.Files
	q := policy.Quotas{Student: f.StudentQuotaBytes, Teacher: f.TeacherQuotaBytes, Admin: f.AdminQuotaBytes,
		Auditor: f.AuditorQuotaBytes, Group: f.GroupQuotaBytes}
	w := web.New(web.Options{Store: s.st, Auth: s.auth, Policy: s.policy, Logger: s.log, TLS: s.tls, Quotas: &q,
		Metrics:    s.metrics,
		Autoconfig: web.AutoconfigHandler(autoconfigOptions(s.cfg)),
		Portal: &web.PortalOptions{Domain: s.cfg.Domain, Language: s.cfg.Language,
			SessionIdle: s.cfg.Portal.Idle(), SessionMax: s.cfg.Portal.Max(),
			Modules: s.cfg.Modules.Settings(), DirectScopes: s.cfg.Chat.Scopes(),
			Inspect: s.admin, HomeworkMinDays: &s.cfg.Homework.MinDays}})
	return daemon{name: "https", addr: s.cfg.Listen.HTTPS, ownTLS: true, proto: connlimit.HTTP, serve: w.Serve, close: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		return w.Shutdown(ctx)
	}}
}

func serve(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	format := cfg.Log.Format
	for len(args) > 0 {
		switch a := args[0]; {
		case a == "--help" || a == "-h":
			fmt.Fprintf(stdout, "usage: schulhof serve [--config FILE] [--data DIR] [--domain DOMAIN] [--log-format text|json]\n\n%s\n", serveDetail)
			return 0
		case a == "--log-format" && len(args) > 1:
			format, args = args[1], args[1:]
		case strings.HasPrefix(a, "--log-format="):
			format = strings.TrimPrefix(a, "--log-format=")
		default:
			fmt.Fprintf(stderr, "schulhof: serve: unknown argument %q (see 'schulhof serve --help')\n", a)
			return 2
		}
		args = args[1:]
	}
	if err := config.ValidLogFormat(format); err != nil {
		fmt.Fprintln(stderr, "schulhof: --log-format:", err)
		return 2
	}
	log := logid.NewLogger(stderr, format)
	if err := runServer(cfg, stdout, log); err != nil {
		log.Error("serve", "err", err)
		return 1
	}
	return 0
}

// storeOpened is a hook for the profiling build (pprof_bench.go).
var storeOpened = func(*store.Store) {}

func runServer(cfg *config.Config, stdout io.Writer, log *slog.Logger) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	m := metrics.New()
	st, err := store.Open(cfg.DataDir, store.Options{Timeout: 2 * time.Second, Observer: m})
	if err != nil {
		return err
	}
	defer st.Close()
	storeOpened(st)
	if oi := st.OpenInfo(); oi.FreelistRebuilt {
		log.Warn("store: the last stop was not clean; the free pages were found by walking the whole database (crash recovery)", "took", oi.Took, "commits_replayed", oi.Replayed)
	} else {
		log.Info("store opened", "took", oi.Took)
	}
	if oi := st.OpenInfo(); oi.Scrubbed > 0 {
		log.Warn("store: an erasure had not finished overwriting the freed pages; done now, before serving", "pages", oi.Scrubbed)
	}
	m.StoreUsage(storeUsage(st))
	if cfg.Backup.Dir != "" {
		m.BackupAge(backupAge(cfg.Backup.Dir))
	}
	certs, err := tlsutil.Open(tlsutil.Options{CertFile: cfg.TLS.Cert, KeyFile: cfg.TLS.Key,
		DataDir: cfg.DataDir, Domain: cfg.Domain, Logger: log})
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	tlsCfg := certs.Config()
	if certs.Generated() {
		fmt.Fprintf(stdout, "Generated a self-signed certificate in %s (set [tls] cert/key for a real one).\n", filepath.Join(cfg.DataDir, "tls"))
	}
	v := auth.New(st, auth.Options{
		Domain:             cfg.Domain,
		FailuresPerAccount: cfg.Auth.FailuresPerAccountPerMinute,
		FailuresPerIP:      cfg.Auth.FailuresPerIPPerMinute,
		CacheTTL:           time.Duration(cfg.Auth.CacheSeconds) * time.Second,
		Logger:             log,
		Modules:            cfg.Modules.Settings(), // MODULE-OFF at every login
		Metrics:            m,
	})
	defer v.Close() // flushes the login log before the store closes
	s := &server{cfg: cfg, st: st, auth: v, admin: newService(cfg, st, v), tls: tlsCfg, log: log,
		metrics: m, health: &metrics.Health{Store: st.CheckWritable}}
	s.policy = s.admin.Policy
	s.conns = connlimit.New(s.policy, log)
	s.conns.Refused = s.connRefused
	if err := s.firstAdmin(stdout); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// New certificates without a restart: on SIGHUP (systemctl reload,
	// certbot's deploy hook) and when the files change.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go certs.ReloadOn(ctx, hup)
	go certs.Watch(ctx, certWatchEvery)

	sockPath := socketPath(cfg)
	sock, err := adminsock.Listen(sockPath)
	if err != nil {
		return err
	}
	defer os.Remove(sockPath)
	defer sock.Close()
	go adminsock.ServeStreams(sock, func(req adminsock.Request, out io.Writer) adminsock.Response { return executeStream(s.admin, req, out) }, log)
	fmt.Fprintf(stdout, "admin socket   %s\n", sockPath)

	go v.PurgeLoop(ctx, time.Duration(cfg.Auth.LoginLogRetentionDays)*24*time.Hour, time.Hour)
	s.startLeaverCheck(ctx, nil)        // leavers past [privacy] leaver_grace_days are erased
	defer s.startBackups(ctx, stdout)() // waits for a running backup before the store closes

	running, err := s.start(stdout)
	defer s.stop(running)
	if err != nil {
		return err
	}
	closeMetrics, err := s.startMetrics(stdout)
	if err != nil {
		return err
	}
	defer closeMetrics()
	defer s.health.Stopping() // runs first: not ready while closing
	fmt.Fprintf(stdout, "Schulhof for %s is running (data in %s). Stop with Ctrl-C.\n", cfg.Domain, cfg.DataDir)
	log.Info("started", "domain", cfg.Domain, "data", cfg.DataDir)
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// start opens every enabled listener and serves it in the background.
func (s *server) start(stdout io.Writer) ([]daemon, error) {
	var running []daemon
	for _, d := range s.daemons() {
		if d.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", d.addr)
		if err != nil {
			return running, fmt.Errorf("%s: %w", d.name, err)
		}
		// Counted below TLS, so a handshake that never ends counts too.
		var refuseTLS *tls.Config
		if d.tls || d.ownTLS {
			refuseTLS = s.tls
		}
		ln = s.metrics.Listen(ln, metricsProtocol(d.name), d.name)
		ln = s.conns.Listen(ln, d.proto, refuseTLS)
		if d.tls {
			ln = tls.NewListener(ln, s.tls)
		}
		fmt.Fprintf(stdout, "%-14s %s\n", d.name, ln.Addr())
		running = append(running, d)
		s.health.Listening(d.name)
		go func() {
			defer s.health.Stopped(d.name)
			if err := d.serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
				s.log.Error("daemon stopped", "daemon", d.name, "err", err)
			}
		}()
	}
	return running, nil
}

// stop closes the daemons in parallel, each given a few seconds.
func (s *server) stop(running []daemon) {
	var wg sync.WaitGroup
	for _, d := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan struct{})
			go func() { d.close(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				s.log.Warn("daemon did not stop in time", "daemon", d.name)
			}
		}()
	}
	wg.Wait()
}

// firstAdmin creates an admin account on the first start and prints its
// one-time password, once.
func (s *server) firstAdmin(stdout io.Writer) error {
	accounts, err := s.st.Accounts()
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if a.Role == string(policy.Admin) {
			return nil
		}
	}
	c, err := s.admin.AddUser("schulhof serve", admin.NewUser{First: "Admin", Last: "Schulhof", Role: policy.Admin})
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	fmt.Fprintf(stdout, "First start: created the admin account\n  account:  %s\n  address:  %s\n  password: %s   (one-time: shown only now; change it at the first login)\n",
		c.Account.Name, c.Address, c.Password)
	return nil
}
