package e2e

import (
	"context"
	"fmt"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
)

func TestSMTPLinkBlock(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	if _, err := e.st.AddBlockedDomains("casino.example"); err != nil {
		t.Fatal(err)
	}
	auth := smtp.PlainAuth("", anna, pw, "127.0.0.1")
	bad := msg(addr(anna), addr(anna), "Tipp", "Schau mal: https://www.casino.example/bonus")
	err := smtp.SendMail(e.smtpAddr, auth, addr(anna), []string{addr(anna)}, []byte(bad))
	if !strings.HasPrefix(code(err), "550 5.7.1 [LINK-BLOCK]") || !strings.Contains(code(err), "casino.example") {
		t.Fatalf("blocked link: %v", code(err))
	}
	html := "From: " + addr(anna) + "\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<a href=3D\"http://casino.example/\">x</a>\r\n"
	if err := smtp.SendMail(e.smtpAddr, auth, addr(anna), []string{addr(anna)}, []byte(html)); !strings.Contains(code(err), "[LINK-BLOCK]") {
		t.Fatalf("blocked link in HTML: %v", code(err))
	}
	ok := msg(addr(anna), addr(anna), "Tipp", "https://www.schule.test/plan and https://notcasino.example/")
	if err := smtp.SendMail(e.smtpAddr, auth, addr(anna), []string{addr(anna)}, []byte(ok)); err != nil {
		t.Fatal(err)
	}
	if n := e.inboxCount(t, anna); n != 1 {
		t.Fatalf("%d messages, want only the allowed one", n)
	}
}

// swaks drives every SMTP acceptance and refusal path from outside.
func TestSwaks(t *testing.T) {
	swaks := tool(t, "swaks")
	lim := policy.DefaultMailLimits()
	s := lim[policy.Student]
	s.RecipientsPerMessage = 2
	lim[policy.Student] = s
	e := startMail(t, mailOpts{limits: lim})
	anna := e.user(t, "Anna", "Schmidt", policy.Student, "5a")
	ben := e.user(t, "Ben", "Meyer", policy.Student, "5a")
	e.user(t, "Cem", "Yilmaz", policy.Student, "5b")
	e.st.AddBlockedDomains("casino.example")
	host, p := "127.0.0.1", port(e.smtpAddr)

	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		base := []string{"--server", host, "--port", p, "--helo", "client.test", "--suppress-data"}
		out, err := exec.CommandContext(ctx, swaks, append(base, args...)...).CombinedOutput()
		return string(out), err
	}
	withAuth := func(args ...string) []string {
		return append([]string{"--auth", "PLAIN", "--auth-user", anna, "--auth-password", pw, "--from", addr(anna)}, args...)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"accepted", withAuth("--to", addr(ben)), ""},
		{"accepted via LOGIN", []string{"--auth", "LOGIN", "--auth-user", addr(anna), "--auth-password", pw, "--from", addr(anna), "--to", addr(ben)}, ""},
		{"group address", withAuth("--to", "5a@"+domain), ""},
		{"no auth", []string{"--from", addr(anna), "--to", addr(ben)}, "530 5.7.0"},
		{"wrong password", []string{"--auth", "PLAIN", "--auth-user", anna, "--auth-password", "nope", "--from", addr(anna), "--to", addr(ben)}, "535 5.7.8 [AUTH-FAILED]"},
		{"foreign sender", withAuth("--from", addr(ben), "--to", addr(ben)), "550 5.7.1 [MAIL-INTERNAL]"},
		{"external recipient", withAuth("--to", "someone@example.org"), "550 5.7.1 [MAIL-INTERNAL]"},
		{"unknown recipient", withAuth("--to", "nobody@"+domain), "550 5.1.1"},
		{"other class", withAuth("--to", "5b@"+domain), "550 5.7.1 [MAIL-MASS]"},
		{"too many recipients", withAuth("--to", addr(ben)+","+addr(anna)+",cem.yilmaz@"+domain), "550 5.7.1 [MAIL-MASS]"},
		{"blocked link", withAuth("--to", addr(ben), "--body", "https://casino.example/x"), "550 5.7.1 [LINK-BLOCK]"},
		{"too large", withAuth("--to", addr(ben), "--attach-type", "text/plain", "--attach", "@"+bigFile(t)), "552 5.3.4 [SIZE-20MB]"},
	}
	for _, c := range cases {
		out, err := run(c.args...)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused (%v):\n%s", c.name, err, out)
		case c.want != "" && !strings.Contains(out, c.want):
			t.Errorf("%s: want %q in:\n%s", c.name, c.want, out)
		}
	}
	// two direct, one via 5a, and the message whose third recipient was
	// refused still went to the first two (swaks carries on, as clients do)
	if n := e.inboxCount(t, ben); n != 4 {
		t.Errorf("ben has %d messages, want 4", n)
	}
}

// bigFile is a file just over the SIZE-20MB limit once encoded.
func bigFile(t *testing.T) string {
	p := t.TempDir() + "/big.txt"
	line := strings.Repeat("y", 70) + "\n"
	var b strings.Builder
	for b.Len() < int(policy.DefaultMaxTransferBytes) {
		b.WriteString(line)
	}
	if err := writeFile(p, b.String()); err != nil {
		t.Fatal(err)
	}
	return p
}

// curl fetches a delivered message over IMAP end to end.
func TestCurlFetchesDeliveredMail(t *testing.T) {
	curl := tool(t, "curl")
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	ben := e.user(t, "Ben", "Meyer", policy.Student)
	body := msg(addr(anna), addr(ben), "Von curl gelesen", "Inhalt für curl")
	if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", anna, pw, "127.0.0.1"), addr(anna), []string{addr(ben)}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("imap://%s/INBOX;UID=1", e.imapAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "-sS", "--user", ben+":"+pw, url).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Subject: Von curl gelesen") || !strings.Contains(string(out), "Inhalt für curl") {
		t.Fatalf("curl got:\n%s", out)
	}
}

// mbsync (isync) synchronises the INBOX into a Maildir.
func TestMbsyncFetchesDeliveredMail(t *testing.T) {
	mbsync := tool(t, "mbsync")
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	ben := e.user(t, "Ben", "Meyer", policy.Student)
	body := msg(addr(anna), addr(ben), "Von mbsync gelesen", "Inhalt für mbsync")
	if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", anna, pw, "127.0.0.1"), addr(anna), []string{addr(ben)}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(dir+"/mail", 0o700)
	rc := fmt.Sprintf(`IMAPAccount school
Host 127.0.0.1
Port %s
User %s
Pass %s
SSLType None
AuthMechs LOGIN

IMAPStore school-remote
Account school

MaildirStore school-local
Path %s/mail/
Inbox %s/mail/INBOX

Channel school
Far :school-remote:
Near :school-local:
Patterns INBOX
Create Near
SyncState *
`, port(e.imapAddr), ben, pw, dir, dir)
	if err := writeFile(dir+"/mbsyncrc", rc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, mbsync, "-c", dir+"/mbsyncrc", "-a").CombinedOutput()
	if err != nil {
		t.Fatalf("mbsync: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(dir + "/mail/INBOX/new/*")
	cur, _ := filepath.Glob(dir + "/mail/INBOX/cur/*")
	files = append(files, cur...)
	if len(files) != 1 {
		t.Fatalf("maildir has %d messages:\n%s", len(files), out)
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), "Subject: Von mbsync gelesen") {
		t.Fatalf("synced message:\n%s", b)
	}
}
