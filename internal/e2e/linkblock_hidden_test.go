package e2e

import (
	"net/smtp"
	"strings"
	"testing"

	"schulhof/policy"
)

// TestSMTPLinkBlockSeesWhatClientsShow: links hidden the ways a lenient
// client still shows them are refused at DATA with LINK-BLOCK; the same
// mail with an allowed link is delivered.
func TestSMTPLinkBlockSeesWhatClientsShow(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	if _, err := e.st.AddBlockedDomains("casino.example"); err != nil {
		t.Fatal(err)
	}
	auth := smtp.PlainAuth("", anna, pw, "127.0.0.1")
	head := "From: " + addr(anna) + "\r\nTo: " + addr(anna) + "\r\nSubject: Tipp\r\n"
	hidden := map[string]string{
		// "https://casino.example/" in base64 with a stray "*"
		"base64 stray": "Content-Transfer-Encoding: base64\r\n\r\naHR0cHM6Ly9jYX*Npbm8uZXhhbXBsZS8=\r\n",
		"flowed delsp": "Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\nSchau: https://cas \r\nino.example/\r\n",
		"text/x-foo":   "Content-Type: text/x-foo\r\n\r\nhttps://casino.example/\r\n",
		"mso":          "Content-Type: text/html\r\n\r\n<p>Hallo</p><!--[if mso]><a href=\"https://casino.example/\">x</a><![endif]-->\r\n",
		"utf-7":        "Content-Type: text/plain; charset=utf-7\r\n\r\n+AGgAdAB0AHAAcwA6AC8ALwBjAGEAcwBpAG4AbwAuAGUAeABhAG0AcABsAGU-\r\n",
	}
	for name, rest := range hidden {
		err := smtp.SendMail(e.smtpAddr, auth, addr(anna), []string{addr(anna)}, []byte(head+rest))
		if !strings.HasPrefix(code(err), "550 5.7.1 [LINK-BLOCK]") || !strings.Contains(code(err), "casino.example") {
			t.Errorf("%s: %s", name, code(err))
		}
	}
	ok := head + "Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\nSchau: https://www.schu \r\nle.test/\r\n"
	if err := smtp.SendMail(e.smtpAddr, auth, addr(anna), []string{addr(anna)}, []byte(ok)); err != nil {
		t.Fatal(code(err))
	}
	if n := e.inboxCount(t, anna); n != 1 {
		t.Fatalf("%d messages, want only the allowed one", n)
	}
}
