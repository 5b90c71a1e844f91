package e2e

import (
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/imapd"
	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/smtpd"
	"schulhof/store"
)

const (
	domain = "schule.test"
	pw     = "Str0ng!Passw0rd"
)

// mailEnv is smtpd and imapd on one store, listening on random loopback
// ports.
type mailEnv struct {
	st       *store.Store
	svc      *admin.Service
	smtpAddr string
	imapAddr string
}

type mailOpts struct {
	limits   map[policy.Role]policy.MailLimits
	maxBytes int64 // smtpd hard cap (0: the policy limit)
	modules  map[policy.Module]policy.ModuleSetting
}

func startMail(t *testing.T, o mailOpts) *mailEnv { return startMailB(t, o) }

// startMailB is startMail for tests and benchmarks.
func startMailB(t testing.TB, o mailOpts) *mailEnv {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.Default()
	}
	eng := policy.NewEngine()
	v := auth.New(st, auth.Options{Domain: domain, CacheTTL: time.Minute, Logger: log, Modules: o.modules})
	sm := smtpd.New(smtpd.Options{Store: st, Auth: v, Policy: eng, Domain: domain, Hostname: "mail." + domain, Limits: o.limits, MaxMessageBytes: o.maxBytes, Logger: log})
	im := imapd.New(imapd.Options{Store: st, Auth: v, Policy: eng, Logger: log})
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	il, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go sm.Serve(sl)
	go im.Serve(il)
	t.Cleanup(func() {
		sm.Close()
		im.Close()
		v.Close() // flushes the login log
		if errs := st.Check(); len(errs) > 0 {
			t.Errorf("bbolt check: %v", errs)
		}
		st.Close()
	})
	return &mailEnv{st: st, svc: &admin.Service{Store: st, Policy: eng, Domain: domain, DefaultConsentComms: true},
		smtpAddr: sl.Addr().String(), imapAddr: il.Addr().String()}
}

// user creates an account ready to log in and returns its name.
func (e *mailEnv) user(t testing.TB, first, last string, role policy.Role, groups ...string) string {
	t.Helper()
	c, err := e.svc.AddUser("test", admin.NewUser{First: first, Last: last, Role: role, Groups: groups, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.UpdateAccount(c.Account.Name, func(a *store.Account) error { a.MustChange = false; return nil }); err != nil {
		t.Fatal(err)
	}
	return c.Account.Name
}

func (e *mailEnv) imap(t *testing.T, user string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(e.imapAddr, &imapclient.Options{UnilateralDataHandler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *mailEnv) inboxCount(t *testing.T, account string) uint32 {
	t.Helper()
	m, err := e.st.MailboxByName(account, store.Inbox)
	if err != nil {
		return 0
	}
	return m.Messages
}

// tool finds an external client; missing is a skip locally and a failure
// in CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing in CI", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

func addr(name string) string { return name + "@" + domain }

func port(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

func msg(from, to, subject, body string) string {
	return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + "\r\n"
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }
