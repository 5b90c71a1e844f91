package smtpd

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"

	"schulhof/internal/mailmsg"
)

// stored is what Data keeps of msg: the header block read, parsed,
// rewritten (Bcc out, a Received in) and written, then the rest.
func stored(t *testing.T, msg []byte) ([]byte, error) {
	t.Helper()
	br := newHeaderReader(bytes.NewReader(msg))
	raw, err := readHeaderBlock(br, 1<<20)
	if err != nil {
		return nil, err
	}
	h, err := parseHeader(raw)
	if err != nil {
		return nil, err
	}
	h.Del("Bcc")
	h.Add("Received", "by test")
	var out bytes.Buffer
	if err := textproto.WriteHeader(&out, h); err != nil {
		t.Fatal(err)
	}
	io.Copy(&out, br)
	return out.Bytes(), nil
}

func TestHeaderRewriteKeepsClientBytes(t *testing.T) {
	in := "From: =?utf-8?q?J=C3=B6rg?= <j@schule.test>\r\nBcc: geheim@schule.test,\r\n  noch@schule.test\r\nSubject: x\r\n folded\r\nbcc: second@schule.test\r\n\r\nbody\r\nBcc: in the body stays\r\n"
	out, err := stored(t, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := "Received: by test\r\nFrom: =?utf-8?q?J=C3=B6rg?= <j@schule.test>\r\nSubject: x\r\n folded\r\n\r\nbody\r\nBcc: in the body stays\r\n"
	if string(out) != want {
		t.Fatalf("%q\nwant %q", out, want)
	}
	// a message that ends inside its header, and an empty one
	for in, want := range map[string]string{"Subject: x": "Received: by test\r\nSubject: x\r\n\r\n", "": "Received: by test\r\n\r\n"} {
		if out, err := stored(t, []byte(in)); err != nil || string(out) != want {
			t.Fatalf("%q: %q %v", in, out, err)
		}
	}
	// text without a header does not parse (Data refuses it: no From)
	if _, err := stored(t, []byte("just text, no header\r\n\r\n")); err == nil {
		t.Fatal("text without a header parsed as one")
	}
}

func TestHeaderBound(t *testing.T) {
	big := "From: a@schule.test\r\nX-Long: " + strings.Repeat("y", 2000) + "\r\n" + strings.Repeat(" more\r\n", 2000) + "\r\nbody"
	_, err := readHeaderBlock(newHeaderReader(strings.NewReader(big)), 4096)
	var hb *headerTooBigError
	if !errors.As(err, &hb) {
		t.Fatalf("header over the bound: %v", err)
	}
	if _, err := readHeaderBlock(newHeaderReader(strings.NewReader(big)), int64(len(big))); err != nil {
		t.Fatal(err)
	}
	// a line longer than the reader's buffer is still one line
	huge := "X-Huge: " + strings.Repeat("z", 40<<10) + "\r\n\r\n"
	if raw, err := readHeaderBlock(newHeaderReader(strings.NewReader(huge)), 1<<20); err != nil || string(raw) != huge {
		t.Fatalf("long line: %d bytes, %v", len(raw), err)
	}
}

// FuzzHeaderRewrite: whatever parses keeps the client's body and fields,
// gets the Received first, and still parses.
func FuzzHeaderRewrite(f *testing.F) {
	for _, s := range []string{"Subject: x\r\n\r\nbody", "", "\r\n", "no header", "A: b\nC: d\n\nx", "Subject: Grüße\r\n\r\n\xff\xfe",
		"X: " + strings.Repeat("y", 5000) + "\r\n\r\n", "Bcc: x\r\n\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, err := stored(t, msg)
		if err != nil {
			return // refused at DATA
		}
		if !bytes.HasPrefix(out, []byte("Received: by test\r\n")) {
			t.Fatalf("Received missing: %q", out)
		}
		if i := bytes.Index(msg, []byte("\n\r\n")); i >= 0 && !bytes.HasSuffix(out, msg[i+3:]) {
			t.Fatalf("body not kept: %q → %q", msg, out)
		}
		if _, err := mailmsg.Parse(bytes.NewReader(out)); err != nil {
			t.Fatal(err)
		}
	})
}
