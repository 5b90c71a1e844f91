package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/imapd"
	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/internal/connlimit"
	"schulhof/internal/tlsutil"
	"schulhof/policy"
	"schulhof/smtpd"
	"schulhof/store"
	"schulhof/web"
)

// TestUnauthenticatedConnectionCap: SMTP, IMAP and HTTPS share one count
// of connections not yet logged in per client address (LIMIT-CONN, 3
// here), as `schulhof serve` wires them. Over it each protocol refuses in
// its own words; a login on any of them — SMTP AUTH, IMAP LOGIN, a DAV
// request with Basic auth — frees its place. Real clients from 127.0.0.1.
func TestUnauthenticatedConnectionCap(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := policy.NewEngine()
	if err := eng.SetBound(policy.UnauthConnsPerIP, 3); err != nil {
		t.Fatal(err)
	}
	v := auth.New(st, auth.Options{Domain: domain, CacheTTL: time.Minute, Logger: log})
	svc := &admin.Service{Store: st, Policy: eng, Domain: domain, DefaultConsentComms: true}
	c, err := svc.AddUser("test", admin.NewUser{First: "Lena", Last: "Limit", Role: policy.Student, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	user := c.Account.Name
	st.UpdateAccount(user, func(a *store.Account) error { a.MustChange = false; return nil })
	tlsCfg, _, err := tlsutil.Load("", "", t.TempDir(), domain)
	if err != nil {
		t.Fatal(err)
	}

	limit := connlimit.New(eng, log)
	listen := func(p connlimit.Protocol, refuseTLS *tls.Config) (net.Listener, string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return limit.Listen(ln, p, refuseTLS), ln.Addr().String()
	}
	sm := smtpd.New(smtpd.Options{Store: st, Auth: v, Policy: eng, Domain: domain, Hostname: "mail." + domain, Logger: log})
	im := imapd.New(imapd.Options{Store: st, Auth: v, Policy: eng, Logger: log})
	w := web.New(web.Options{Store: st, Auth: v, Policy: eng, Logger: log, TLS: tlsCfg})
	sl, smtpAddr := listen(connlimit.SMTP, nil)
	il, imapAddr := listen(connlimit.IMAP, nil)
	hl, httpsAddr := listen(connlimit.HTTP, tlsCfg)
	go sm.Serve(sl)
	go im.Serve(il)
	go w.Serve(hl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w.Shutdown(ctx)
		sm.Close()
		im.Close()
		v.Close()
		st.Close()
	})

	counted := func(want int64) {
		t.Helper()
		if n := limit.Unauthenticated(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}); n != want {
			t.Fatalf("%d connections counted, want %d", n, want)
		}
	}
	smtpClient := func() *smtp.Client {
		t.Helper()
		c, err := smtp.Dial(smtpAddr)
		if err != nil {
			t.Fatalf("SMTP within the cap: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	refusal := func(addr string) string {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("refused connection not closed: %v %q", err, b)
		}
		return string(b)
	}
	httpsTransport := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}
	defer httpsTransport.CloseIdleConnections()
	https := &http.Client{Transport: httpsTransport, Timeout: 10 * time.Second}

	s1 := smtpClient()
	smtpClient()
	smtpClient()
	counted(3)
	if got := refusal(smtpAddr); !strings.HasPrefix(got, "421 4.7.0 [LIMIT-CONN] ") {
		t.Fatalf("SMTP over the cap: %q", got)
	}
	if got := refusal(imapAddr); !strings.HasPrefix(got, "* BYE [LIMIT-CONN] ") {
		t.Fatalf("IMAP over the cap: %q", got)
	}
	resp, err := https.Get("https://" + httpsAddr + "/dav/")
	if err != nil {
		t.Fatalf("HTTPS over the cap: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "[LIMIT-CONN]") {
		t.Fatalf("HTTPS over the cap: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	counted(3)

	// SMTP AUTH frees a place ...
	if err := s1.Auth(smtp.PlainAuth("", user, pw, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	counted(2)
	// ... IMAP LOGIN too ...
	ic, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.WaitGreeting(); err != nil {
		t.Fatal(err)
	}
	counted(3)
	if err := ic.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	counted(2)
	// ... and a DAV request with Basic auth, over HTTP/2 here.
	req, _ := http.NewRequest("PROPFIND", "https://"+httpsAddr+"/dav/", nil)
	req.SetBasicAuth(user, pw)
	req.Header.Set("Depth", "0")
	resp, err = https.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 207 || resp.ProtoMajor != 2 {
		t.Fatalf("PROPFIND: %d %s", resp.StatusCode, resp.Proto)
	}
	counted(2)
	// A request without login leaves its connection counted: a fresh
	// HTTP/1.1 connection that only fetched the password page.
	h1, err := tls.Dial("tcp", httpsAddr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer h1.Close()
	io.WriteString(h1, "GET /passwort HTTP/1.1\r\nHost: x\r\n\r\n")
	if r, err := http.ReadResponse(bufio.NewReader(h1), nil); err != nil || r.StatusCode != 200 {
		t.Fatalf("password page: %v %v", err, r)
	}
	counted(3)
	if got := refusal(smtpAddr); !strings.HasPrefix(got, "421 4.7.0 [LIMIT-CONN] ") {
		t.Fatalf("SMTP over the cap again: %q", got)
	}
}
