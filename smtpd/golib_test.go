package smtpd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// The go-smtp copy in third_party is patched for speed (PATCHES.md).
// These tests hold the patched DATA reader and line limit to what the
// original per-byte loops do.

// origDATA is go-smtp's original DATA decoding: dots at line starts
// removed, CRLF kept, up to the end line.
func origDATA(in []byte) []byte {
	const (
		beginLine = iota
		dot
		dotCR
		cr
		data
		eof
	)
	state := beginLine
	var out []byte
	for _, c := range in {
		if state == eof {
			break
		}
		switch state {
		case beginLine:
			if c == '.' {
				state = dot
				continue
			}
			if c == '\r' {
				state = cr
				break
			}
			state = data
		case dot:
			if c == '\r' {
				state = dotCR
				continue
			}
			state = data
		case dotCR:
			if c == '\n' {
				state = eof
				continue
			}
			state = data
		case cr:
			if c == '\n' {
				state = beginLine
				break
			}
			state = data
		case data:
			if c == '\r' {
				state = cr
			}
		}
		out = append(out, c)
	}
	return out
}

type captureBackend struct{ got chan []byte }

func (b captureBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return captureSession(b), nil }

type captureSession captureBackend

func (captureSession) Mail(string, *smtp.MailOptions) error { return nil }
func (captureSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (captureSession) Reset()                               {}
func (captureSession) Logout() error                        { return nil }
func (s captureSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		s.got <- []byte("ERR " + err.Error())
		return err
	}
	s.got <- b
	return nil
}

func startCapture(t *testing.T, lineLimit int) (string, chan []byte) {
	t.Helper()
	got := make(chan []byte, 1)
	srv := smtp.NewServer(captureBackend{got: got})
	srv.Domain = "test"
	srv.MaxLineLength = lineLimit
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), got
}

// sendRaw runs one transaction and writes data (which must contain its
// own end line) verbatim.
func sendRaw(t *testing.T, addr string, data []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	line := func() string { l, _ := br.ReadString('\n'); return l }
	line()
	fmt.Fprintf(c, "HELO x\r\n")
	line()
	fmt.Fprintf(c, "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n")
	line()
	line()
	line()
	go c.Write(data)
	line()
}

func TestPatchedDataReaderMatchesOriginal(t *testing.T) {
	addr, got := startCapture(t, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "xyz", ".", "..", "\r", "\n", "\r\n", "\r\n.", "\r\n..", ".\r", " ", strings.Repeat("w", 5000)}
	for i := 0; i < 300; i++ {
		var b bytes.Buffer
		for n := rng.IntN(200); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		// (after ".\r" and another CR both miss an end line right after:
		// the extra CRLF makes sure the transfer ends)
		b.WriteString("\r\n\r\n.\r\n")
		sendRaw(t, addr, b.Bytes())
		want := origDATA(b.Bytes())
		if g := <-got; !bytes.Equal(g, want) {
			t.Fatalf("input %q:\n got %q\nwant %q", b.Bytes(), g, want)
		}
	}
}

func TestPatchedLineLimit(t *testing.T) {
	const limit = 100
	addr, got := startCapture(t, limit)
	for _, n := range []int{limit - 2, limit - 1, limit, limit + 1, 5 * limit} {
		// the original counts a line's bytes before its LF (CR included)
		// plus one (the LF of the line before): n+2 bytes in all
		body := "x\r\n" + strings.Repeat("y", n) + "\r\n.\r\n"
		sendRaw(t, addr, []byte(body))
		g := <-got
		wantOK := n+2 <= limit
		if ok := !bytes.HasPrefix(g, []byte("ERR")); ok != wantOK {
			t.Errorf("line of %d bytes: %q, want ok=%v", n, g[:min(len(g), 40)], wantOK)
		}
	}
}
