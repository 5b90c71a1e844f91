package imapd

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// A password change ends every IMAP session that logged in with the old
// password: the admin's reset, the admin setting a password, and the
// user's own change (as web/password.go does it, through auth).
func TestIMAPPasswordChangeClosesSessions(t *testing.T) {
	const newPW = "N3ues!Passwort9"
	cases := map[string]func(e *env) error{
		"admin reset": func(e *env) error {
			_, err := e.svc.ResetPassword("test", "erika.muster")
			return err
		},
		"admin passwd": func(e *env) error { return e.svc.SetPassword("test", "erika.muster", newPW) },
		"own change": func(e *env) error {
			v := auth.New(e.st, auth.Options{Domain: "schule.test"})
			defer v.Close()
			d := v.ChangePassword(context.Background(), auth.Attempt{Name: "erika.muster", Password: pw,
				Protocol: "https", IP: "127.0.0.1", Service: policy.ServiceWeb}, newPW)
			if !d.Allow {
				return d.Err()
			}
			return nil
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "Erika Muster", "Zoe Gross")
			selected := e.login(t, "erika.muster", nil)
			if _, err := selected.Select("INBOX", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			idle := e.login(t, "erika.muster", nil)
			other := e.login(t, "zoe.gross", nil)
			if err := change(e); err != nil {
				t.Fatal(err)
			}
			for _, c := range []interface{ Closed() <-chan struct{} }{selected, idle} {
				select {
				case <-c.Closed():
				case <-time.After(time.Second):
					t.Fatal("session still open one second after the password change")
				}
			}
			if err := other.Noop().Wait(); err != nil {
				t.Fatalf("another account's session ended too: %v", err)
			}
			if name == "admin reset" {
				return // the one-time password must be changed first
			}
			// A session with the new password survives other changes.
			fresh, err := imapclient.DialInsecure(e.addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			if err := fresh.Login("erika.muster", newPW).Wait(); err != nil {
				t.Fatal(err)
			}
			if _, err := e.st.UpdateAccount("erika.muster", func(a *store.Account) error { a.Nickname = "E"; return nil }); err != nil {
				t.Fatal(err)
			}
			// The feed is ordered: once the later lock of another account
			// has ended its session, the nickname change was handled too.
			if err := e.svc.Lock("test", "zoe.gross", "Test"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-other.Closed():
			case <-time.After(5 * time.Second):
				t.Fatal("the locked account's session stayed open")
			}
			if err := fresh.Noop().Wait(); err != nil {
				t.Fatalf("a session with the new password ended: %v", err)
			}
		})
	}
}
