package main

import (
	"schulhof/imapd"
	"schulhof/internal/connlimit"
	"schulhof/smtpd"
)

// mailDaemons are SMTP submission (587 STARTTLS, 465 implicit TLS) and
// IMAP (143 STARTTLS, 993 implicit TLS); one server each serves both of
// its listeners.
func (s *server) mailDaemons() []daemon {
	sm := smtpd.New(smtpd.Options{
		Store: s.st, Auth: s.auth, Policy: s.policy, Domain: s.cfg.Domain,
		Limits: s.cfg.Limits.MailLimits(), MaxMessageBytes: s.cfg.Mail.MaxMessageBytes,
		TLSConfig: s.tls, Logger: s.log.With("daemon", "smtp"), Metrics: s.metrics,
	})
	im := imapd.New(imapd.Options{
		Store: s.st, Auth: s.auth, Policy: s.policy, TLSConfig: s.tls, Logger: s.log.With("daemon", "imap"),
		Metrics: s.metrics,
	})
	return []daemon{
		{name: "submission", addr: s.cfg.Listen.Submission, proto: connlimit.SMTP, serve: sm.Serve, close: sm.Close},
		{name: "submissions", addr: s.cfg.Listen.Submissions, tls: true, proto: connlimit.SMTP, serve: sm.Serve, close: sm.Close},
		{name: "imap", addr: s.cfg.Listen.IMAP, proto: connlimit.IMAP, serve: im.Serve, close: im.Close},
		{name: "imaps", addr: s.cfg.Listen.IMAPS, tls: true, proto: connlimit.IMAP, serve: im.Serve, close: im.Close},
	}
}
