package e2e

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/internal/tlsutil/tlstest"
)

// TestSIGHUPSwapsCertificate: the served binary gets SIGHUP after its
// certificate files were replaced. IMAPS connections opened before keep
// working on the old certificate; new handshakes on every TLS listener
// (implicit and STARTTLS) present the new one. Then the files change
// again without a signal and the watcher swaps them in.
func TestSIGHUPSwapsCertificate(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	certFile, keyFile := filepath.Join(base, "fullchain.pem"), filepath.Join(base, "privkey.pem")
	tlstest.Issue(t, certFile, keyFile, tlstest.Spec{Serial: 101})
	cfg := WriteConfig(t, dir, fmt.Sprintf("[tls]\ncert = %q\nkey = %q\n", certFile, keyFile))
	srv := Start(t, cfg)
	ok(t, cfg, "Erst!Passw0rt1\n", "user", "add", "--first", "Anna", "--last", "Schmidt", "--password-stdin")
	ok(t, cfg, pw+"\n", "user", "passwd", "anna.schmidt", "--password-stdin")

	// The pool: four logged-in IMAPS sessions on certificate 101.
	type pooled struct {
		tc *tls.Conn
		ic *imapclient.Client
	}
	var pool []pooled
	for i := 0; i < 4; i++ {
		tc := dialTLS(t, srv.Addrs["imaps"])
		if s := serialOf(tc); s != 101 {
			t.Fatalf("pool connection %d: serial %d, want 101", i, s)
		}
		ic := imapclient.New(tc, nil)
		t.Cleanup(func() { ic.Close() })
		if err := ic.Login("anna.schmidt", pw).Wait(); err != nil {
			t.Fatal(err)
		}
		pool = append(pool, pooled{tc, ic})
	}

	replace(t, certFile, keyFile, 202)
	if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, srv, "why=signal", "serial=202")

	for i, p := range pool {
		if _, err := p.ic.Select("INBOX", nil).Wait(); err != nil {
			t.Fatalf("pool connection %d after the swap: %v", i, err)
		}
		if err := p.ic.Noop().Wait(); err != nil {
			t.Fatalf("pool connection %d NOOP: %v", i, err)
		}
		if s := serialOf(p.tc); s != 101 {
			t.Fatalf("pool connection %d changed to serial %d", i, s)
		}
	}
	checkAll := func(want int64) {
		t.Helper()
		for name, s := range map[string]int64{
			"imaps":       serialOf(dialTLS(t, srv.Addrs["imaps"])),
			"submissions": serialOf(dialTLS(t, srv.Addrs["submissions"])),
			"https":       serialOf(dialTLS(t, srv.Addrs["https"])),
			"submission":  smtpStartTLSSerial(t, srv.Addrs["submission"]),
			"imap":        imapStartTLSSerial(t, srv.Addrs["imap"]),
		} {
			if s != want {
				t.Errorf("%s: new handshake got serial %d, want %d", name, s, want)
			}
		}
	}
	checkAll(202)
	// A new IMAPS session logs in on the new certificate too.
	ic := imapclient.New(dialTLS(t, srv.Addrs["imaps"]), nil)
	if err := ic.Login("anna.schmidt", pw).Wait(); err != nil {
		t.Fatal(err)
	}
	ic.Close()

	// A broken file on SIGHUP: refused, 202 stays.
	os.WriteFile(certFile, []byte("kaputt"), 0o644)
	srv.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, srv, "new certificate refused", "serial=202")
	checkAll(202)

	// The file-change path: no signal, the watcher notices.
	replace(t, certFile, keyFile, 303)
	waitLog(t, srv, `why="files changed"`, "serial=303")
	checkAll(303)
	srv.Stop()
}

// replace writes a new pair under temporary names and renames them into
// place, as a deploy script would.
func replace(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	tlstest.Issue(t, certFile+".new", keyFile+".new", tlstest.Spec{Serial: serial})
	if err := os.Rename(keyFile+".new", keyFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(certFile+".new", certFile); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until one line of the server's log holds every part.
func waitLog(t *testing.T, srv *Server, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(srv.Output(), "\n") {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q:\n%s", parts, srv.Output())
}

func dialTLS(t *testing.T, addr string) *tls.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func serialOf(c *tls.Conn) int64 { return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64() }

func smtpStartTLSSerial(t *testing.T, addr string) int64 {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	st, _ := c.TLSConnectionState()
	return st.PeerCertificates[0].SerialNumber.Int64()
}

// imapStartTLSSerial speaks the few lines of RFC 3501 STARTTLS by hand to
// get at the handshake.
func imapStartTLSSerial(t *testing.T, addr string) int64 {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
		t.Fatalf("imap greeting %q %v", line, err)
	}
	fmt.Fprint(c, "a1 STARTTLS\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "a1 ") {
			if !strings.HasPrefix(line, "a1 OK") {
				t.Fatalf("STARTTLS: %q", line)
			}
			break
		}
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return serialOf(tc)
}
