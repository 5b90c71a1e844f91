package e2e

import (
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/imapd"
	"schulhof/internal/auth"
	"schulhof/smtpd"
	"schulhof/store"
)

// nonLoopbackIP is an address of this machine that is not loopback, so a
// connection to it is not "local" (skip when there is none).
func nonLoopbackIP(t *testing.T) string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this machine")
	return ""
}

// Without TLS, passwords are refused except on loopback: IMAP says
// LOGINDISABLED, SMTP offers no AUTH.
func TestNoPlaintextAuthOffLoopback(t *testing.T) {
	ip := nonLoopbackIP(t)
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(st, auth.Options{Domain: domain, Logger: log})
	im := imapd.New(imapd.Options{Store: st, Auth: v, Logger: log})
	sm := smtpd.New(smtpd.Options{Store: st, Auth: v, Domain: domain, Logger: log})
	il, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skip(err)
	}
	sl, _ := net.Listen("tcp", ip+":0")
	go im.Serve(il)
	go sm.Serve(sl)
	defer func() { im.Close(); sm.Close(); v.Close(); st.Close() }()

	c, err := imapclient.DialInsecure(il.Addr().String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	caps, err := c.Capability().Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !caps.Has(imap.CapLoginDisabled) || caps.Has(imap.Cap("AUTH=PLAIN")) {
		t.Fatalf("IMAP caps without TLS off loopback: %v", caps)
	}
	if err := c.Login("x", "y").Wait(); err == nil {
		t.Fatal("LOGIN accepted without TLS")
	}

	sc, err := smtp.Dial(sl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	sc.Hello("x")
	if ok, _ := sc.Extension("AUTH"); ok {
		t.Fatal("SMTP offers AUTH without TLS off loopback")
	}
	sc.Text.PrintfLine("AUTH PLAIN AHgAeQ==")
	if _, _, err := sc.Text.ReadResponse(235); !strings.HasPrefix(code(err), "538") {
		t.Fatalf("AUTH without TLS: %v", code(err))
	}
}
