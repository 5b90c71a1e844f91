package smtpd

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"

	"schulhof/store"
)

// The report's header lines stay within RFC 5322's 998 characters however
// long the subject it names, and a subject in another charset is decoded
// (not encoded a second time).
func TestDSNSubjectBoundedAndDecoded(t *testing.T) {
	s := &session{srv: &Server{opt: Options{Domain: "schule.test", Hostname: "mx", Now: time.Now}},
		account: &store.Account{Name: "anna.schmidt"}}
	for _, c := range []struct{ subject, want string }{
		{strings.Repeat("Übung ", 20000), "Übung Übung"},
		{"=?windows-1252?q?Gr=FC=DFe?=", "Grüße"},
	} {
		var h textproto.Header
		h.Set("Subject", c.subject)
		msg := s.dsn([]string{"cem.yilmaz"}, []byte("Subject: x\r\n\r\n"), h, time.Now())
		for i, l := range bytes.Split(msg, []byte("\r\n")) {
			if len(l) > 998 {
				t.Fatalf("line %d of the report is %d characters long", i, len(l))
			}
		}
		m, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil || !strings.Contains(subj, c.want) || len([]rune(subj)) > 300 {
			t.Errorf("report subject %q (%v), want it to contain %q and be short", subj, err, c.want)
		}
	}
}
