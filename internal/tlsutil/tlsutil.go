// Package tlsutil owns the server certificate: it loads the configured
// files, or generates a self-signed one into the data directory on first
// start so `schulhof serve` works on a fresh machine, and it swaps in a new
// certificate without a restart (Certs: on SIGHUP, when the files change,
// and before the self-signed one expires). Every listener gets the
// certificate through tls.Config.GetCertificate, so a swap reaches the
// next handshake of every protocol while open connections keep theirs.
package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// Load returns a TLS config for certFile/keyFile, or, when both are empty,
// for the self-signed certificate in dataDir/tls (generated if missing).
// generated reports whether a new certificate was made. The config does
// not reload; serve uses Open and Certs.Watch for that.
func Load(certFile, keyFile, dataDir, domain string) (cfg *tls.Config, generated bool, err error) {
	c, err := Open(Options{CertFile: certFile, KeyFile: keyFile, DataDir: dataDir, Domain: domain})
	if err != nil {
		return nil, false, err
	}
	return c.Config(), c.Generated(), nil
}

// Paths are the certificate and key files in use: the configured ones, or
// the self-signed pair in dataDir/tls. selfSigned reports the latter.
func Paths(certFile, keyFile, dataDir string) (cert, key string, selfSigned bool) {
	if certFile != "" {
		return certFile, keyFile, false
	}
	dir := filepath.Join(dataDir, "tls")
	return filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), true
}

// ReadLeaf reads the first certificate of a PEM file (the leaf of a
// chain), for schulhof doctor.
func ReadLeaf(certFile string) (*x509.Certificate, error) {
	raw, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		if b, raw = pem.Decode(raw); b == nil {
			return nil, fmt.Errorf("%s: no PEM CERTIFICATE block", certFile)
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}
