package doctor

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"time"

	"schulhof/internal/tlsutil"
)

// Kind is how a listener starts TLS.
type Kind int

const (
	ImplicitTLS  Kind = iota // submissions, imaps, https
	SMTPStartTLS             // submission
	IMAPStartTLS             // imap
)

// Listener is one configured listener.
type Listener struct {
	Name, Addr string
	Kind       Kind
}

// checkListeners connects to every listener, starts TLS and compares the
// certificate it presents with the one in the files (wantFP; "" if the
// file could not be read).
func checkListeners(ctx context.Context, ls []Listener, running bool, wantFP string, timeout time.Duration) []Finding {
	const check = "listeners"
	if !running {
		return []Finding{finding(check, Warn, "listen.notrunning")}
	}
	var out []Finding
	for _, l := range ls {
		if l.Addr == "" {
			continue
		}
		addr := dialAddr(l.Addr)
		fp, err := probe(ctx, l, addr, timeout)
		switch {
		case err != nil:
			out = append(out, finding(check, Fail, "listen.down", l.Name, addr, err))
		case wantFP != "" && fp != wantFP:
			out = append(out, finding(check, Warn, "listen.oldcert", l.Name, addr, fp[:16], wantFP[:16]))
		default:
			out = append(out, finding(check, OK, "listen.ok", l.Name, addr))
		}
	}
	return out
}

// dialAddr turns a listen address into one to connect to: an empty or
// unspecified host means this machine.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

// probe connects, speaks the protocol up to the TLS handshake and returns
// the fingerprint of the certificate presented.
func probe(ctx context.Context, l Listener, addr string, timeout time.Duration) (string, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	// Only what is presented matters here, not whether it verifies: the
	// certificate check judges the file.
	cfg := &tls.Config{InsecureSkipVerify: true}
	var state tls.ConnectionState
	switch l.Kind {
	case ImplicitTLS:
		tc := tls.Client(conn, cfg)
		if err := tc.Handshake(); err != nil {
			return "", err
		}
		state = tc.ConnectionState()
	case SMTPStartTLS:
		c, err := smtp.NewClient(conn, "localhost")
		if err != nil {
			return "", err
		}
		if err := c.StartTLS(cfg); err != nil {
			return "", err
		}
		state, _ = c.TLSConnectionState()
		c.Quit()
	case IMAPStartTLS:
		r := bufio.NewReader(conn)
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
			return "", fmt.Errorf("IMAP greeting %q: %v", strings.TrimSpace(line), err)
		}
		fmt.Fprint(conn, "d1 STARTTLS\r\n")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(line, "d1 ") {
				if !strings.HasPrefix(line, "d1 OK") {
					return "", fmt.Errorf("STARTTLS: %s", strings.TrimSpace(line))
				}
				break
			}
		}
		tc := tls.Client(conn, cfg)
		if err := tc.Handshake(); err != nil {
			return "", err
		}
		state = tc.ConnectionState()
	}
	if len(state.PeerCertificates) == 0 {
		return "", fmt.Errorf("no certificate presented")
	}
	return tlsutil.Fingerprint(state.PeerCertificates[0]), nil
}
