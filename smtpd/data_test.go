package smtpd

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"

	"schulhof/internal/mailmsg"
)

func stored(t *testing.T, msg []byte) []byte {
	t.Helper()
	head, rest, err := prependHeader(bytes.NewReader(msg), func(h textproto.Header, parsed bool) textproto.Header {
		var add textproto.Header
		if parsed && h.Get("Date") == "" {
			add.Add("Date", "Mon, 02 Nov 2026 10:00:00 +0100")
		}
		add.Add("Received", "from test")
		return add
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(io.MultiReader(bytes.NewReader(head.added), head.raw, rest))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrependHeader(t *testing.T) {
	out := string(stored(t, []byte("Subject: x\r\n\r\nbody\r\n")))
	if !strings.HasPrefix(out, "Received: from test\r\nDate: ") || !strings.HasSuffix(out, "\r\nSubject: x\r\n\r\nbody\r\n") {
		t.Fatalf("%q", out)
	}
	out = string(stored(t, []byte("just text, no header")))
	if out != "Received: from test\r\n\r\njust text, no header" {
		t.Fatalf("%q", out)
	}
}

// FuzzPrependHeader: whatever the client sends is stored completely, in
// order, after the added fields, and the result still parses.
func FuzzPrependHeader(f *testing.F) {
	for _, s := range []string{"Subject: x\r\n\r\nbody", "", "\r\n", "no header", "A: b\nC: d\n\nx", "Subject: Grüße\r\n\r\n\xff\xfe",
		"X: " + strings.Repeat("y", 5000) + "\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		out := stored(t, msg)
		if !bytes.HasSuffix(out, msg) {
			t.Fatalf("client bytes not kept: %q → %q", msg, out)
		}
		if !bytes.HasPrefix(out, []byte("Received: from test\r\n")) {
			t.Fatalf("Received missing: %q", out)
		}
		if _, err := mailmsg.Parse(bytes.NewReader(out)); err != nil {
			t.Fatal(err)
		}
	})
}
