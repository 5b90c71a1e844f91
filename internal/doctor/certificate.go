package doctor

import (
	"bytes"
	"crypto/x509"
	"os"
	"time"

	"schulhof/internal/tlsutil"
)

// expirySoon: less left than this is a warning (certbot renews with 30
// days left, so this means its renewal has been failing for two weeks).
const expirySoon = 14 * 24 * time.Hour

// checkCertificate reads the certificate file: validity, the names
// clients use (host: FEHLER, others: WARNUNG when missing), self-signed.
// It returns the leaf's fingerprint for the listener check.
func checkCertificate(certFile string, selfSigned bool, host string, otherNames []string, now time.Time) ([]Finding, string) {
	const check = "certificate"
	leaf, err := tlsutil.ReadLeaf(certFile)
	if os.IsNotExist(err) || os.IsPermission(err) {
		return []Finding{finding(check, Fail, "cert.unreadable", certFile, err)}, ""
	}
	if err != nil {
		return []Finding{finding(check, Fail, "cert.bad", certFile, err)}, ""
	}
	fp := tlsutil.Fingerprint(leaf)
	// The remedy differs: certbot for files, a reload for the generated one.
	sfx := ".files"
	if selfSigned {
		sfx = ".self"
	}
	var out []Finding
	day := func(t time.Time) string { return t.Local().Format(time.DateOnly) }
	left := leaf.NotAfter.Sub(now)
	switch {
	case now.After(leaf.NotAfter):
		out = append(out, finding(check, Fail, "cert.expired"+sfx, certFile, day(leaf.NotAfter)))
	case now.Before(leaf.NotBefore):
		out = append(out, finding(check, Fail, "cert.notyet", certFile, day(leaf.NotBefore)))
	case left < expirySoon:
		out = append(out, finding(check, Warn, "cert.soon"+sfx, certFile, day(leaf.NotAfter), int(left.Hours()/24)))
	default:
		out = append(out, finding(check, OK, "cert.valid", day(leaf.NotAfter), int(left.Hours()/24), leaf.SerialNumber.Text(16), fp[:16]))
	}
	if err := leaf.VerifyHostname(host); err != nil {
		out = append(out, finding(check, Fail, "cert.noname", host))
	}
	var missing []string
	for _, n := range otherNames {
		if leaf.VerifyHostname(n) != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		out = append(out, finding(check, Warn, "cert.othernames", list(missing, 5)))
	} else if leaf.VerifyHostname(host) == nil {
		out = append(out, finding(check, OK, "cert.names", list(append([]string{host}, otherNames...), 5)))
	}
	if selfSigned || isSelfSigned(leaf) {
		out = append(out, finding(check, Warn, "cert.selfsigned"))
	}
	return out, fp
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}
