// Package tlstest writes certificates for tests: a leaf with a chosen
// serial, expiry and names, signed by a throwaway CA (so it is not
// self-signed), as PEM files.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"testing"
	"time"
)

// Spec describes the leaf.
type Spec struct {
	Serial   int64
	NotAfter time.Time // zero: 90 days from now
	Names    []string  // DNS names; nil: schule.test
}

// Issue writes the leaf (and its CA after it, as a chain) to certFile and
// its key to keyFile.
func Issue(t testing.TB, certFile, keyFile string, s Spec) {
	t.Helper()
	if s.NotAfter.IsZero() {
		s.NotAfter = time.Now().Add(90 * 24 * time.Hour)
	}
	if s.Names == nil {
		s.Names = []string{"schule.test"}
	}
	caKey, caDER := mustCert(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, der := mustCert(t, &x509.Certificate{SerialNumber: big.NewInt(s.Serial), Subject: pkix.Name{CommonName: s.Names[0]},
		NotBefore: s.NotAfter.Add(-90 * 24 * time.Hour), NotAfter: s.NotAfter, DNSNames: s.Names,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, caKey)
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, chain, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustCert makes a key and a certificate from tmpl signed by parent
// (nil: by itself).
func mustCert(t testing.TB, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}
