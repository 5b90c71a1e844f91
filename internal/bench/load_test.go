package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"schulhof/internal/tlsutil"
)

// testMail is a tiny mail system for the load generators: an SMTP server
// that accepts any authenticated message and delivers it to the in-memory
// IMAP server's INBOX of each recipient.
type testMail struct {
	mu       sync.Mutex
	users    map[string]*imapmemserver.User // by address
	pass     map[string]string              // by login
	accepted atomic.Int64
}

func newTestMail(t *testing.T, creds []Cred) *testMail {
	m := &testMail{users: map[string]*imapmemserver.User{}, pass: map[string]string{}}
	for _, c := range creds {
		u := imapmemserver.NewUser(c.User, c.Password)
		if err := u.Create("INBOX", nil); err != nil {
			t.Fatal(err)
		}
		m.users[c.Address] = u
		m.pass[c.User] = c.Password
	}
	return m
}

func listen(t *testing.T) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (m *testMail) serveIMAP(t *testing.T) string { return m.serveIMAPTLS(t, nil, false) }

// serveIMAPTLS offers STARTTLS with cfg, or implicit TLS when implicit.
func (m *testMail) serveIMAPTLS(t *testing.T, cfg *tls.Config, implicit bool) string {
	mem := imapmemserver.New()
	for _, u := range m.users {
		mem.AddUser(u)
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discardLogger{},
		TLSConfig:    cfg,
	})
	l := listen(t)
	if implicit {
		l = tls.NewListener(l, cfg)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

func (m *testMail) serveSMTP(t *testing.T) string { return m.serveSMTPTLS(t, nil, false) }

// serveSMTPTLS offers STARTTLS with cfg, or implicit TLS when implicit.
func (m *testMail) serveSMTPTLS(t *testing.T, cfg *tls.Config, implicit bool) string {
	s := smtp.NewServer(smtpBackend{m})
	s.AllowInsecureAuth = true
	s.Domain = "localhost"
	s.ErrorLog = discardLogger{}
	s.TLSConfig = cfg
	l := listen(t)
	if implicit {
		l = tls.NewListener(l, cfg)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().String()
}

type smtpBackend struct{ m *testMail }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{m: b.m}, nil }

type smtpSession struct {
	m      *testMail
	authed bool
	rcpts  []string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if p, ok := s.m.pass[user]; !ok || p != pass {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.m.users[to] == nil {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, to := range s.rcpts {
		if _, err := s.m.users[to].Append("INBOX", bytes.NewReader(b), &imap.AppendOptions{}); err != nil {
			return err
		}
	}
	s.m.accepted.Add(1)
	return nil
}

func (s *smtpSession) Reset()        { s.rcpts = nil }
func (s *smtpSession) Logout() error { return nil }

func TestRunSMTPMessagesVerified(t *testing.T) {
	creds := PatternUsers("user%d", 1, 5, "secret", "school.test")
	m := newTestMail(t, creds)
	smtpAddr, imapAddr := m.serveSMTP(t), m.serveIMAP(t)

	res, err := RunSMTP(context.Background(), SMTPOptions{Addr: smtpAddr, Users: creds, Conns: 4, Messages: 200, Size: 3000,
		Verify: &VerifyOptions{Addr: imapAddr, Timeout: 30 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res)
	if res.Accepted != 200 || res.Total.Errors != 0 || m.accepted.Load() != 200 {
		t.Fatalf("accepted %d (server saw %d), errors %v, want 200 and none", res.Accepted, m.accepted.Load(), res.Errors)
	}
	if res.Expected != 200 || res.Delivered != 200 {
		t.Errorf("delivered %d of %d, want 200 of 200", res.Delivered, res.Expected)
	}
}

func TestRunSMTPDurationCountsRefusals(t *testing.T) {
	creds := PatternUsers("user%d", 1, 3, "secret", "school.test")
	m := newTestMail(t, creds)
	addr := m.serveSMTP(t)
	// Every fourth message goes to an unknown address: 550 counted, the
	// connection keeps going after RSET.
	n := 0
	var mu sync.Mutex
	res, err := RunSMTP(context.Background(), SMTPOptions{Addr: addr, Users: creds, Conns: 2, Duration: time.Second, Size: 1000,
		Recipients: func(_ *rand.Rand, _ Cred) []string {
			mu.Lock()
			defer mu.Unlock()
			n++
			if n%4 == 0 {
				return []string{"nobody@school.test"}
			}
			return []string{"user1@school.test"}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res)
	if res.Accepted == 0 || res.Errors["550"] == 0 || res.Errors["conn"] != 0 {
		t.Fatalf("accepted %d, errors %v: want some accepted and some 550, no connection errors", res.Accepted, res.Errors)
	}
	if int64(res.Accepted) != m.accepted.Load() || res.Accepted+res.Errors["550"] != n {
		t.Errorf("accepted %d + refused %d != %d sent (server accepted %d)", res.Accepted, res.Errors["550"], n, m.accepted.Load())
	}
}

func TestRunSMTPBadPassword(t *testing.T) {
	creds := PatternUsers("user%d", 1, 1, "secret", "school.test")
	m := newTestMail(t, creds)
	addr := m.serveSMTP(t)
	creds[0].Password = "wrong"
	_, err := RunSMTP(context.Background(), SMTPOptions{Addr: addr, Users: creds, Conns: 1, Messages: 1})
	if err == nil || !strings.Contains(err.Error(), "authenticate") {
		t.Fatalf("err = %v, want an authentication failure", err)
	}
}

func TestRunIMAPMix(t *testing.T) {
	creds := PatternUsers("user%d", 1, 4, "secret", "school.test")
	m := newTestMail(t, creds)
	addr := m.serveIMAP(t)
	opts := IMAPOptions{Addr: addr, Users: creds, Clients: 4, Duration: 2 * time.Second, Prepare: 30, Seed: 1}
	res, err := RunIMAP(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res)
	if res.Total.Count == 0 || res.Total.Errors != 0 {
		t.Fatalf("%d commands ok, errors %v %v", res.Total.Count, res.Errors, res.ErrorSamples)
	}
	sum := 0
	seen := map[string]bool{}
	for _, op := range res.Ops {
		sum += op.Count
		seen[op.Name] = op.Count > 0
	}
	if sum != res.Total.Count {
		t.Errorf("per-op counts add up to %d, total says %d", sum, res.Total.Count)
	}
	for _, op := range []string{OpSelect, OpFetchHeaders, OpFetchBody, OpStore, OpSearchUnseen, OpSearchText, OpAppend, OpIdle, OpNoop} {
		if !seen[op] {
			t.Errorf("no successful %s in %d commands", op, res.Total.Count)
		}
	}
	if res.InboxMin < 30 || res.InboxMax < res.InboxMin {
		t.Errorf("INBOX sizes %d..%d after prepare, want >= 30", res.InboxMin, res.InboxMax)
	}
	// Prepare tops up only what is missing: every INBOX holds >= 30.
	for _, c := range creds {
		st, err := m.users[c.Address].Status("INBOX", &imap.StatusOptions{NumMessages: true})
		if err != nil || *st.NumMessages < 30 {
			t.Errorf("%s INBOX: %v %v", c.User, st, err)
		}
	}
}

func TestRunSMTPNoAuthCountsRefusalCode(t *testing.T) {
	creds := PatternUsers("user%d", 1, 2, "secret", "school.test")
	m := newTestMail(t, creds)
	addr := m.serveSMTP(t)
	res, err := RunSMTP(context.Background(), SMTPOptions{Addr: addr, Users: creds, Conns: 1, Messages: 5, NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	// The test server demands AUTH: every MAIL FROM is refused (go-smtp's ErrAuthRequired is 502 5.7.0) and
	// the connection carries on.
	if res.Accepted != 0 || res.Errors["502"] != 5 || res.Total.Errors != 5 {
		t.Fatalf("accepted %d, errors %v", res.Accepted, res.Errors)
	}
}

// TestTLSModes runs both loads over STARTTLS and implicit TLS against a
// self-signed certificate (InsecureSkipVerify), and checks that without it
// the certificate is refused.
func TestTLSModes(t *testing.T) {
	cfg, _, err := tlsutil.Load("", "", t.TempDir(), "localhost")
	if err != nil {
		t.Fatal(err)
	}
	creds := PatternUsers("user%d", 1, 2, "secret", "school.test")
	for _, mode := range []TLSMode{TLSStartTLS, TLSImplicit} {
		m := newTestMail(t, creds)
		smtpAddr := m.serveSMTPTLS(t, cfg, mode == TLSImplicit)
		imapAddr := m.serveIMAPTLS(t, cfg, mode == TLSImplicit)
		res, err := RunSMTP(context.Background(), SMTPOptions{Addr: smtpAddr, TLS: mode, InsecureSkipVerify: true, Users: creds,
			Conns: 2, Messages: 20, Verify: &VerifyOptions{Addr: imapAddr, TLS: mode, InsecureSkipVerify: true}})
		if err != nil || res.Accepted != 20 || res.Delivered != 20 {
			t.Fatalf("%s smtp: %v %+v", mode, err, res)
		}
		ires, err := RunIMAP(context.Background(), IMAPOptions{Addr: imapAddr, TLS: mode, InsecureSkipVerify: true, Users: creds,
			Clients: 2, Duration: 300 * time.Millisecond, Prepare: 5})
		if err != nil || ires.Total.Count == 0 || ires.Total.Errors != 0 {
			t.Fatalf("%s imap: %v %v", mode, err, ires)
		}
		if _, err := RunSMTP(context.Background(), SMTPOptions{Addr: smtpAddr, TLS: mode, Users: creds, Messages: 1}); err == nil {
			t.Errorf("%s: self-signed certificate accepted without InsecureSkipVerify", mode)
		}
	}
}

func TestRunFanout(t *testing.T) {
	creds := PatternUsers("user%d", 1, 4, "secret", "school.test")
	m := newTestMail(t, creds)
	for _, c := range creds { // kept: the run expunges only what it delivered
		if _, err := m.users[c.Address].Append("INBOX", strings.NewReader("Subject: old\r\n\r\nkept\r\n"), &imap.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	o := FanoutOptions{IMAPAddr: m.serveIMAP(t), SMTPAddr: m.serveSMTP(t), Users: creds, Rounds: 5, Wait: 5 * time.Second}
	res, err := RunFanout(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res)
	want := map[string]int{"login": 3, "select": 3, "message": 5, "idle_exists": 15}
	for _, op := range res.Ops {
		if op.Count != want[op.Name] || op.Errors != 0 {
			t.Errorf("%s: %d ok, %d errors; want %d ok", op.Name, op.Count, op.Errors, want[op.Name])
		}
		delete(want, op.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing ops: %v", want)
	}
	for _, c := range creds[1:] {
		st, err := m.users[c.Address].Status("INBOX", &imap.StatusOptions{NumMessages: true})
		if err != nil || *st.NumMessages != 1 {
			t.Errorf("%s INBOX: %v %v, want the old message kept and the 5 expunged again", c.User, st, err)
		}
	}
}
