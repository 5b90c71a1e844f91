package e2e

import (
	"net/smtp"
	"strings"
	"testing"

	"schulhof/policy"
	"schulhof/store"
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
	// Each case small (scanned in memory) and larger than what is kept
	// inline (scanned as it streams to its blob file).
	fill := strings.Repeat("X-Fill: "+strings.Repeat("Füllzeile ", 9)+"\r\n", 200)
	if len(fill) <= store.InlineMax {
		t.Fatalf("fill of %d bytes does not leave the inline path", len(fill))
	}
	for _, pad := range []string{"", fill} {
		for name, rest := range hidden {
			err := smtp.SendMail(e.smtpAddr, auth, addr(anna), []string{addr(anna)}, []byte(head+pad+rest))
			if !strings.HasPrefix(code(err), "550 5.7.1 [LINK-BLOCK]") || !strings.Contains(code(err), "casino.example") {
				t.Errorf("%s (%d bytes more): %s", name, len(pad), code(err))
			}
		}
		ok := head + pad + "Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\nSchau: https://www.schu \r\nle.test/\r\n"
		if err := smtp.SendMail(e.smtpAddr, auth, addr(anna), []string{addr(anna)}, []byte(ok)); err != nil {
			t.Fatal(code(err))
		}
	}
	if n := e.inboxCount(t, anna); n != 2 {
		t.Fatalf("%d messages, want only the allowed two", n)
	}
}
