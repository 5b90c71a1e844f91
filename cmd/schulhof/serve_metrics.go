package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"schulhof/internal/connlimit"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// metricsProtocol is the protocol label of a listener.
func metricsProtocol(listener string) string {
	switch listener {
	case "submission", "submissions":
		return metrics.SMTP
	case "imap", "imaps":
		return metrics.IMAP
	}
	return metrics.Web
}

// connRefused counts the listeners' own refusals (LIMIT-CONN,
// LIMIT-TIMEOUT) under the daemon's protocol.
func (s *server) connRefused(p connlimit.Protocol, d policy.Decision) {
	proto := metrics.Web
	switch p {
	case connlimit.SMTP:
		proto = metrics.SMTP
	case connlimit.IMAP:
		proto = metrics.IMAP
	}
	s.metrics.Refused(proto, d)
}

// storeUsage feeds the store size gauges.
func storeUsage(st *store.Store) func() (metrics.Usage, error) {
	return func() (metrics.Usage, error) {
		u, err := st.Usage()
		return metrics.Usage{DBBytes: u.DBBytes, Blobs: u.Blobs, BlobBytes: u.BlobBytes}, err
	}
}

// backupAge feeds schulhof_backup_age_seconds from the [backup]
// directory; no gauge while there is no complete backup.
func backupAge(dir string) func() (time.Time, bool, error) {
	w := &store.BackupWatch{Dir: dir}
	return func() (time.Time, bool, error) {
		t, err := w.Latest()
		if errors.Is(err, store.ErrNoBackup) {
			return time.Time{}, false, nil
		}
		return t, err == nil, err
	}
}

// startMetrics opens the [metrics] listener (/metrics, /healthz, /readyz)
// and returns its closer; nothing when it is disabled.
func (s *server) startMetrics(stdout io.Writer) (func() error, error) {
	addr := s.cfg.Metrics.Listen
	if addr == "" {
		return func() error { return nil }, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	srv := s.metrics.NewServer(s.health)
	fmt.Fprintf(stdout, "%-14s %s\n", "metrics", ln.Addr())
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("metrics listener stopped", "err", err)
		}
	}()
	return srv.Close, nil
}
