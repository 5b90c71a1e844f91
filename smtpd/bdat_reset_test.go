package smtpd

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// overlapSession records whether Reset ran while Data was still running.
type overlapSession struct {
	mu      sync.Mutex
	inData  bool
	overlap bool
	entered chan struct{}
}

func (s *overlapSession) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inData {
		s.overlap = true
	}
}
func (s *overlapSession) Logout() error                        { return nil }
func (s *overlapSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *overlapSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *overlapSession) Data(r io.Reader) error {
	s.mu.Lock()
	s.inData = true
	s.mu.Unlock()
	s.entered <- struct{}{}
	io.Copy(io.Discard, r)            // ends with the reset's error
	time.Sleep(50 * time.Millisecond) // widen the window a racing Reset would hit
	s.mu.Lock()
	s.inData = false
	s.mu.Unlock()
	return nil
}

type overlapBackend struct{ s *overlapSession }

func (b overlapBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return b.s, nil }

// TestBDATResetWaitsForData: RSET after a non-LAST BDAT chunk must let
// the backend's Data return before Session.Reset runs (the patched
// go-smtp's reset); otherwise both touch the session at once and the
// MAIL-MASS reservation is released twice or leaked.
func TestBDATResetWaitsForData(t *testing.T) {
	sess := &overlapSession{entered: make(chan struct{}, 1)}
	srv := smtp.NewServer(overlapBackend{sess})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	expect := func(code string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %s: %v", code, err)
			}
			if !strings.HasPrefix(line, code) {
				t.Fatalf("want %s, got %q", code, line)
			}
			if len(line) > 3 && line[3] == ' ' {
				return
			}
		}
	}
	send := func(s string) { fmt.Fprint(c, s) }
	expect("220")
	send("EHLO x\r\n")
	expect("250")
	send("MAIL FROM:<a@x>\r\n")
	expect("250")
	send("RCPT TO:<b@x>\r\n")
	expect("250")
	send("BDAT 5\r\nhallo")
	<-sess.entered
	expect("250")
	send("RSET\r\n")
	expect("250")
	send("QUIT\r\n")
	expect("221")
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.overlap {
		t.Fatal("Session.Reset ran while Data was still running")
	}
}
