package tlsutil

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Options say where the certificate comes from.
type Options struct {
	// CertFile and KeyFile are PEM files (a chain in CertFile is sent as
	// is). Both empty: the self-signed pair in DataDir/tls, generated on
	// first start and renewed before it expires.
	CertFile, KeyFile string
	DataDir, Domain   string
	Logger            *slog.Logger // nil: no log
	// RenewBefore: a self-signed certificate with less left is replaced
	// (0: DefaultRenewBefore). RenewCheck is how often Watch looks (0: a
	// day).
	RenewBefore, RenewCheck time.Duration
	// OnReload, if set, is called after every reload attempt with the
	// leaf now in use or the reason the new files were refused.
	OnReload func(leaf *x509.Certificate, err error)
}

// Certs holds the certificate every listener presents. Reload, the file
// watcher and the renewal swap it atomically: a handshake gets the one
// current when it starts, open connections keep the one they got.
type Certs struct {
	opt               Options
	certFile, keyFile string
	selfSigned        bool
	generated         bool
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate]
	mu                sync.Mutex // serialises reloads and renewals
	stamp             [2]fileStamp
	lastRenewCheck    time.Time
}

// Open loads the certificate (generating the self-signed one if needed).
// Unlike a reload, a bad file here is an error: there is nothing to keep.
func Open(opt Options) (*Certs, error) {
	if opt.RenewBefore == 0 {
		opt.RenewBefore = DefaultRenewBefore
	}
	if opt.RenewCheck == 0 {
		opt.RenewCheck = 24 * time.Hour
	}
	c := &Certs{opt: opt, log: opt.Logger}
	if c.log == nil {
		c.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c.certFile, c.keyFile, c.selfSigned = Paths(opt.CertFile, opt.KeyFile, opt.DataDir)
	if c.selfSigned {
		if _, err := os.Stat(c.certFile); errors.Is(err, os.ErrNotExist) {
			if err := generate(c.certFile, c.keyFile, opt.Domain, selfSignedLife); err != nil {
				return nil, err
			}
			c.generated = true
		}
	}
	cert, stamp, err := c.read()
	if err != nil {
		return nil, err
	}
	c.cur.Store(cert)
	c.stamp = stamp
	c.mu.Lock()
	defer c.mu.Unlock()
	if renewed, err := c.renewIfDue(); err != nil {
		return nil, err
	} else if !renewed {
		c.log.Info("tls: certificate loaded", "why", "start", "file", c.certFile,
			"serial", cert.Leaf.SerialNumber.String(), "sha256", Fingerprint(cert.Leaf),
			"not_after", cert.Leaf.NotAfter.Format(time.RFC3339))
	}
	if now := time.Now(); now.After(c.Leaf().NotAfter) {
		// Serving it beats refusing to start: the admin can still reach
		// the server, and schulhof doctor says what to do.
		c.log.Warn("tls: the certificate has expired: clients will refuse it", "file", c.certFile,
			"not_after", c.Leaf().NotAfter.Format(time.RFC3339))
	}
	return c, nil
}

// Generated reports whether Open made a new self-signed certificate.
func (c *Certs) Generated() bool { return c.generated }

// Files are the certificate and key files in use.
func (c *Certs) Files() (cert, key string) { return c.certFile, c.keyFile }

// Leaf is the certificate presented now.
func (c *Certs) Leaf() *x509.Certificate { return c.cur.Load().Leaf }

// Config is a server TLS config that asks c for the certificate at every
// handshake. Clones (net/http, go-imap, go-smtp make them) keep asking.
func (c *Certs) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cur.Load(), nil
		},
	}
}

// Reload reads the files again (SIGHUP). If they do not make a usable
// certificate, the current one stays, the reason is logged and returned.
func (c *Certs) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reload("reload")
}

// ReloadOn reloads for every value on sig (serve passes SIGHUP) until ctx
// ends.
func (c *Certs) ReloadOn(ctx context.Context, sig <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			c.mu.Lock()
			c.reload("signal")
			c.mu.Unlock()
		}
	}
}

// Watch polls the files every interval and reloads when one changed
// (certbot replaces the symlinks in live/: the stat of the link's target
// changes), and checks the self-signed certificate's expiry every
// Options.RenewCheck. It returns when ctx ends.
func (c *Certs) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		switch {
		case stampsOf(c.certFile, c.keyFile) != c.stamp:
			c.reload("files changed")
		case c.selfSigned && time.Since(c.lastRenewCheck) >= c.opt.RenewCheck:
			if _, err := c.renewIfDue(); err != nil {
				c.log.Error("tls: renewing the self-signed certificate failed, keeping the old one", "err", err)
			}
		}
		c.mu.Unlock()
	}
}

// reload renews a due self-signed certificate, then reads the files.
// c.mu is held.
func (c *Certs) reload(why string) error {
	if renewed, err := c.renewIfDue(); err != nil {
		c.log.Error("tls: renewing the self-signed certificate failed, keeping the old one", "err", err)
	} else if renewed {
		return nil
	}
	cert, stamp, err := c.read()
	// Remember the stamp even after a failure: the next change of the
	// files is tried again, not every tick.
	c.stamp = stamp
	if err == nil {
		if now := time.Now(); now.After(cert.Leaf.NotAfter) && now.Before(c.Leaf().NotAfter) {
			err = fmt.Errorf("%s expired on %s", c.certFile, cert.Leaf.NotAfter.Format(time.DateOnly))
		}
	}
	if err != nil {
		c.log.Error("tls: new certificate refused, keeping the old one", "why", why, "err", err,
			"serial", c.Leaf().SerialNumber.String())
		if c.opt.OnReload != nil {
			c.opt.OnReload(nil, err)
		}
		return err
	}
	c.install(cert, why)
	return nil
}

// renewIfDue replaces a self-signed certificate that has less than
// RenewBefore left. c.mu is held.
func (c *Certs) renewIfDue() (renewed bool, err error) {
	c.lastRenewCheck = time.Now()
	if !c.selfSigned || time.Until(c.Leaf().NotAfter) >= c.opt.RenewBefore {
		return false, nil
	}
	if err := generate(c.certFile, c.keyFile, c.opt.Domain, selfSignedLife); err != nil {
		return false, err
	}
	cert, stamp, err := c.read()
	if err != nil {
		return false, err
	}
	c.stamp = stamp
	c.install(cert, "self-signed renewal")
	return true, nil
}

func (c *Certs) install(cert *tls.Certificate, why string) {
	c.cur.Store(cert)
	c.log.Info("tls: certificate loaded", "why", why, "file", c.certFile,
		"serial", cert.Leaf.SerialNumber.String(), "sha256", Fingerprint(cert.Leaf),
		"not_after", cert.Leaf.NotAfter.Format(time.RFC3339))
	if c.opt.OnReload != nil {
		c.opt.OnReload(cert.Leaf, nil)
	}
}

// read loads the pair and the stamp of the files as they were before.
func (c *Certs) read() (*tls.Certificate, [2]fileStamp, error) {
	stamp := stampsOf(c.certFile, c.keyFile)
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, stamp, err
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, stamp, err
		}
	}
	return &cert, stamp, nil
}

// Fingerprint is the SHA-256 of the certificate's DER, in hex.
func Fingerprint(leaf *x509.Certificate) string {
	sum := sha256.Sum256(leaf.Raw)
	return hex.EncodeToString(sum[:])
}
