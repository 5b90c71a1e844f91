package e2e

import (
	"errors"
	"net/smtp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/policy"
)

// TestThrottleIsTemporary: once an account's failures are used up, SMTP
// and IMAP answer with their temporary codes (454 4.7.0, NO [UNAVAILABLE])
// naming AUTH-THROTTLE, so clients retry instead of asking the user for a
// new password; a wrong password before that is a permanent failure.
func TestThrottleIsTemporary(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	smtpAuth := func(pass string) string {
		c, err := smtp.Dial(e.smtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Hello("client.test"); err != nil {
			t.Fatal(err)
		}
		return code(c.Auth(smtp.PlainAuth("", anna, pass, "127.0.0.1")))
	}
	for i := range 5 { // the default: 5 failures a minute per account
		if got := smtpAuth("falsch"); !strings.HasPrefix(got, "535 5.7.8 [AUTH-FAILED]") {
			t.Fatalf("wrong password %d: %s", i, got)
		}
	}
	if got := smtpAuth(pw); !strings.HasPrefix(got, "454 4.7.0 [AUTH-THROTTLE]") {
		t.Errorf("SMTP when throttled: %s", got)
	}

	c, err := imapclient.DialInsecure(e.imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Login(anna, pw).Wait()
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo || ie.Code != imap.ResponseCodeUnavailable ||
		!strings.HasPrefix(ie.Text, "[AUTH-THROTTLE]") {
		t.Errorf("IMAP when throttled: %v", err)
	}
}
