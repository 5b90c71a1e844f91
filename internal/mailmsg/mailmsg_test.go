package mailmsg

import (
	"bytes"
	"strings"
	"testing"
)

var seeds = []string{
	"Subject: hi\r\n\r\nbody\r\n",
	"From: =?utf-8?q?J=C3=B6rg?= <j@schule.test>\r\nTo: a@schule.test, Broken <\r\nSubject: Grüße 8bit\r\nDate: Mon, 02 Nov 2026 10:00:00 +0100\r\n\r\nä\r\n",
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nx\r\n--c--\r\n--b--\r\n",
	"Content-Type: multipart/mixed; boundary=\"nope\r\n\r\n--nope\r\nno end",
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\n--b",
	"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
	"no header at all\r\n",
	"",
	"\r\n",
	strings.Repeat("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n", 100),
}

func TestParseStructure(t *testing.T) {
	s, err := Parse(strings.NewReader(seeds[2]))
	if err != nil {
		t.Fatal(err)
	}
	b := s.Body
	if !b.Multipart() || len(b.Children) != 2 {
		t.Fatalf("%+v", b)
	}
	inner := b.Children[1]
	if inner.Type != "message" || inner.Envelope == nil || inner.Envelope.Subject != "inner" ||
		inner.Message == nil || inner.Message.Subtype != "alternative" {
		t.Fatalf("rfc822 part %+v", inner)
	}
	// the CRLF before a boundary belongs to the boundary
	if b.Children[0].Lines != 0 || b.Children[0].Size != 3 {
		t.Fatalf("text part %+v", b.Children[0])
	}
	if s.Size != int64(len(seeds[2])) || s.HeaderSize != int64(strings.Index(seeds[2], "\r\n\r\n")+4) {
		t.Fatalf("sizes %d %d", s.Size, s.HeaderSize)
	}

	s, _ = Parse(strings.NewReader(seeds[1]))
	e := s.Envelope
	if e.Subject != "Grüße 8bit" || len(e.From) != 1 || e.From[0].Name != "Jörg" || e.Date.IsZero() {
		t.Fatalf("envelope %+v", e)
	}
}

func TestBodyTextDecodes(t *testing.T) {
	msg := "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=FCche\r\n"
	if got := BodyText(strings.NewReader(msg)); !strings.Contains(got, "Küche") {
		t.Fatalf("%q", got)
	}
}

// FuzzParse: any input parses without panicking, sizes add up, and the
// summary survives the store's encoding.
func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Parse failed on an in-memory message: %v", err)
		}
		if s.Size != int64(len(data)) || s.Body == nil {
			t.Fatalf("size %d of %d, body %v", s.Size, len(data), s.Body)
		}
		raw, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		BodyText(bytes.NewReader(data))
		Header(bytes.NewReader(data))
	})
}
