package tlsutil

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"schulhof/internal/tlsutil/tlstest"
)

// issue writes a CA-signed certificate for schule.test.
func issue(t *testing.T, certFile, keyFile string, serial int64, notAfter time.Time) {
	t.Helper()
	tlstest.Issue(t, certFile, keyFile, tlstest.Spec{Serial: serial, NotAfter: notAfter})
}

// echoServer serves TLS with cfg and echoes lines.
func echoServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					c.Write(append(sc.Bytes(), '\n'))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dialSerial connects and returns the connection and the server leaf's serial.
func dialSerial(t *testing.T, addr string) (*tls.Conn, int64) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func echo(t *testing.T, c *tls.Conn, line string) {
	t.Helper()
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != line+"\n" {
		t.Fatalf("echo %q: got %q, %v", line, got, err)
	}
}

func reloads(opt *Options) chan error {
	ch := make(chan error, 16)
	opt.OnReload = func(_ *x509.Certificate, err error) { ch <- err }
	return ch
}

func wait(t *testing.T, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no reload")
		return nil
	}
}

// TestReloadKeepsOpenConnections: after Reload, open connections still
// work on the old certificate and new handshakes get the new one.
func TestReloadKeepsOpenConnections(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	issue(t, cf, kf, 1, time.Now().Add(60*24*time.Hour))
	c, err := Open(Options{CertFile: cf, KeyFile: kf})
	if err != nil {
		t.Fatal(err)
	}
	addr := echoServer(t, c.Config().Clone()) // clones keep asking c
	var old []*tls.Conn
	for i := 0; i < 3; i++ {
		conn, serial := dialSerial(t, addr)
		if serial != 1 {
			t.Fatalf("serial %d, want 1", serial)
		}
		old = append(old, conn)
	}
	issue(t, cf, kf, 2, time.Now().Add(90*24*time.Hour))
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if c.Leaf().SerialNumber.Int64() != 2 {
		t.Fatalf("Leaf serial %d after reload", c.Leaf().SerialNumber.Int64())
	}
	for i, conn := range old {
		echo(t, conn, "still here")
		if s := conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64(); s != 1 {
			t.Fatalf("open connection %d now has serial %d", i, s)
		}
	}
	if _, serial := dialSerial(t, addr); serial != 2 {
		t.Fatalf("new handshake got serial %d, want 2", serial)
	}
}

// TestBadFilesKeepOld: garbage, a key that does not match and an expired
// certificate are refused with a reason; the old certificate stays.
func TestBadFilesKeepOld(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	issue(t, cf, kf, 7, time.Now().Add(60*24*time.Hour))
	opt := Options{CertFile: cf, KeyFile: kf}
	ch := reloads(&opt)
	c, err := Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	addr := echoServer(t, c.Config())
	goodCert, _ := os.ReadFile(cf)
	goodKey, _ := os.ReadFile(kf)

	os.WriteFile(cf, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n"), 0o644)
	if err := c.Reload(); err == nil {
		t.Fatal("garbage certificate accepted")
	}
	if err := wait(t, ch); err == nil {
		t.Fatal("OnReload got no error for garbage")
	}

	other := t.TempDir()
	issue(t, filepath.Join(other, "c"), filepath.Join(other, "k"), 8, time.Now().Add(60*24*time.Hour))
	otherKey, _ := os.ReadFile(filepath.Join(other, "k"))
	os.WriteFile(cf, goodCert, 0o644)
	os.WriteFile(kf, otherKey, 0o600)
	if err := c.Reload(); err == nil {
		t.Fatal("mismatched key accepted")
	}

	issue(t, cf, kf, 9, time.Now().Add(-24*time.Hour))
	if err := c.Reload(); err == nil {
		t.Fatal("expired certificate accepted")
	}
	if _, serial := dialSerial(t, addr); serial != 7 {
		t.Fatalf("serial %d after refused reloads, want 7", serial)
	}
	os.WriteFile(cf, goodCert, 0o644)
	os.WriteFile(kf, goodKey, 0o600)
}

// TestWatchCertbotSymlinks: certbot writes new files into archive/ and
// points the symlinks in live/ at them; the watcher picks that up.
func TestWatchCertbotSymlinks(t *testing.T) {
	dir := t.TempDir()
	archive, live := filepath.Join(dir, "archive"), filepath.Join(dir, "live")
	os.Mkdir(archive, 0o700)
	os.Mkdir(live, 0o700)
	link := func(target, name string) {
		tmp := filepath.Join(live, name+".tmp")
		if err := os.Symlink(target, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(live, name)); err != nil {
			t.Fatal(err)
		}
	}
	issue(t, filepath.Join(archive, "fullchain1.pem"), filepath.Join(archive, "privkey1.pem"), 11, time.Now().Add(30*24*time.Hour))
	link("../archive/fullchain1.pem", "fullchain.pem")
	link("../archive/privkey1.pem", "privkey.pem")
	opt := Options{CertFile: filepath.Join(live, "fullchain.pem"), KeyFile: filepath.Join(live, "privkey.pem")}
	ch := reloads(&opt)
	c, err := Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	addr := echoServer(t, c.Config())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Watch(ctx, 10*time.Millisecond)

	issue(t, filepath.Join(archive, "fullchain2.pem"), filepath.Join(archive, "privkey2.pem"), 12, time.Now().Add(90*24*time.Hour))
	link("../archive/privkey2.pem", "privkey.pem")
	link("../archive/fullchain2.pem", "fullchain.pem")
	// The key may be seen before the certificate: one refused attempt,
	// then the pair.
	for {
		if err := wait(t, ch); err == nil {
			break
		}
	}
	if _, serial := dialSerial(t, addr); serial != 12 {
		t.Fatalf("serial %d after the symlink swap, want 12", serial)
	}
}

// TestSelfSignedRenewed: a self-signed certificate with less than
// RenewBefore left is replaced at Open, and by the periodic check.
func TestSelfSignedRenewed(t *testing.T) {
	dir := t.TempDir()
	cf, kf, _ := Paths("", "", dir)
	if err := generate(cf, kf, "schule.test", 10*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	opt := Options{DataDir: dir, Domain: "schule.test"}
	c, err := Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	if c.Generated() {
		t.Fatal("Generated() for an existing certificate")
	}
	if left := time.Until(c.Leaf().NotAfter); left < 4*365*24*time.Hour {
		t.Fatalf("after Open %v left, want a renewed certificate", left)
	}
	onDisk, err := Open(Options{DataDir: dir, Domain: "schule.test"})
	if err != nil || onDisk.Leaf().SerialNumber.Cmp(c.Leaf().SerialNumber) != 0 {
		t.Fatalf("renewed certificate not on disk: %v", err)
	}

	// The daily check: with RenewBefore longer than the life, every check
	// is due.
	opt = Options{DataDir: dir, Domain: "schule.test", RenewBefore: 6 * 365 * 24 * time.Hour, RenewCheck: 10 * time.Millisecond}
	ch := reloads(&opt)
	c, err = Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := wait(t, ch); err != nil { // renewed at Open
		t.Fatal(err)
	}
	before := c.Leaf().SerialNumber
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Watch(ctx, 5*time.Millisecond)
	if err := wait(t, ch); err != nil {
		t.Fatal(err)
	}
	if c.Leaf().SerialNumber.Cmp(before) == 0 {
		t.Fatal("periodic check did not renew")
	}
}
