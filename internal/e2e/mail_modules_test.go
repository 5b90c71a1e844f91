package e2e

import (
	"net/smtp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/policy"
)

// TestMailModuleLimitedToGroup: mail limited to group 5a. A member logs in
// to SMTP and IMAP; a non-member is refused with MODULE-OFF (535 5.7.1,
// NO [AUTHORIZATIONFAILED]) and refused as a recipient (550 5.7.1); an
// admin outside the group passes.
func TestMailModuleLimitedToGroup(t *testing.T) {
	mods := map[policy.Module]policy.ModuleSetting{policy.ModuleMail: {On: true, Groups: []string{"5a"}}}
	e := startMail(t, mailOpts{modules: mods})
	if _, err := e.svc.AddGroup("test", "5a", "class"); err != nil {
		t.Fatal(err)
	}
	member := e.user(t, "Anna", "Acht", policy.Student, "5a")
	other := e.user(t, "Bert", "Berg", policy.Student)
	adm := e.user(t, "Carla", "Chef", policy.Admin)

	for _, u := range []string{member, adm} {
		c, err := imapclient.DialInsecure(e.imapAddr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login(u, pw).Wait(); err != nil {
			t.Errorf("IMAP %s: %v", u, err)
		}
		c.Close()
		cl, err := smtp.Dial(e.smtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Auth(smtp.PlainAuth("", u, pw, "127.0.0.1")); err != nil {
			t.Errorf("SMTP %s: %v", u, err)
		}
		cl.Close()
	}

	c, err := imapclient.DialInsecure(e.imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Login(other, pw).Wait()
	c.Close()
	if err == nil || !strings.Contains(err.Error(), "AUTHORIZATIONFAILED") || !strings.Contains(err.Error(), "[MODULE-OFF]") {
		t.Errorf("IMAP non-member: %v, want NO [AUTHORIZATIONFAILED] [MODULE-OFF]", err)
	}
	cl, err := smtp.Dial(e.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	err = cl.Auth(smtp.PlainAuth("", other, pw, "127.0.0.1"))
	cl.Close()
	if err == nil || !refusedWith(err, "535", "5.7.1 [MODULE-OFF]") {
		t.Errorf("SMTP non-member: %v, want 535 5.7.1 [MODULE-OFF]", err)
	}

	cl, err = smtp.Dial(e.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Auth(smtp.PlainAuth("", member, pw, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := cl.Mail(member + "@" + domain); err != nil {
		t.Fatal(err)
	}
	if err := cl.Rcpt(adm + "@" + domain); err != nil {
		t.Errorf("RCPT admin: %v", err)
	}
	if err := cl.Rcpt(other + "@" + domain); err == nil || !refusedWith(err, "550", "5.7.1 [MODULE-OFF]") {
		t.Errorf("RCPT non-member: %v, want 550 5.7.1 [MODULE-OFF]", err)
	}
}

// refusedWith: an SMTP reply with that code whose text starts with text.
func refusedWith(err error, code, text string) bool {
	s := strings.ReplaceAll(err.Error(), `"`, "")
	return strings.HasPrefix(s, code+" "+text)
}
