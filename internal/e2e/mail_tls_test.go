package e2e

import (
	"crypto/tls"
	"net/smtp"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// TestMailOverTLS: the served binary speaks SMTP on submission (STARTTLS)
// and submissions (implicit TLS), IMAP on imap (STARTTLS) and imaps, and
// locking an account ends its IMAP session.
func TestMailOverTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	srv := Start(t, cfg)
	ok(t, cfg, "Erst!Passw0rt1\n", "user", "add", "--first", "Anna", "--last", "Schmidt", "--password-stdin")
	ok(t, cfg, pw+"\n", "user", "passwd", "anna.schmidt", "--password-stdin")
	insecure := &tls.Config{InsecureSkipVerify: true} // the generated self-signed certificate
	from := "anna.schmidt@schule.test"
	send := func(c *smtp.Client, host string) {
		t.Helper()
		defer c.Close()
		if err := c.Auth(smtp.PlainAuth("", from, pw, host)); err != nil {
			t.Fatal(err)
		}
		if err := c.Mail(from); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt(from); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("From: " + from + "\r\nSubject: tls\r\n\r\nhi\r\n"))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// submissions: implicit TLS
	conn, err := tls.Dial("tcp", srv.Addrs["submissions"], insecure)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	send(c, "localhost")
	// submission: STARTTLS
	c, err = smtp.Dial(srv.Addrs["submission"])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartTLS(insecure); err != nil {
		t.Fatal(err)
	}
	send(c, "127.0.0.1")

	ic, err := imapclient.DialTLS(srv.Addrs["imaps"], &imapclient.Options{TLSConfig: insecure})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login("anna.schmidt", pw).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 2 {
		t.Fatalf("imaps: %v %v", sel, err)
	}
	ic2, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: insecure})
	if err != nil {
		t.Fatal(err)
	}
	defer ic2.Close()
	if err := ic2.Login("anna.schmidt", pw).Wait(); err != nil {
		t.Fatal(err)
	}
	ok(t, cfg, "", "user", "lock", "anna.schmidt", "--reason", "Test")
	for _, cl := range []*imapclient.Client{ic, ic2} {
		select {
		case <-cl.Closed():
		case <-time.After(2 * time.Second):
			t.Fatal("IMAP session still open after the lock")
		}
	}
	srv.Stop()
}
