package smtpd

import (
	"errors"
	"testing"
)

func TestLoginMechanism(t *testing.T) {
	var gotUser, gotPass string
	check := func(u, p string) error {
		gotUser, gotPass = u, p
		if p != "secret" {
			return errors.New("bad")
		}
		return nil
	}
	// without initial response: Username:, Password:, done
	l := newLoginServer(check)
	if c, done, err := l.Next(nil); string(c) != "Username:" || done || err != nil {
		t.Fatalf("step 1: %q %v %v", c, done, err)
	}
	if c, done, err := l.Next([]byte("anna")); string(c) != "Password:" || done || err != nil {
		t.Fatalf("step 2: %q %v %v", c, done, err)
	}
	if _, done, err := l.Next([]byte("secret")); !done || err != nil || gotUser != "anna" || gotPass != "secret" {
		t.Fatalf("step 3: %v %v %q %q", done, err, gotUser, gotPass)
	}
	if _, _, err := l.Next([]byte("more")); err == nil {
		t.Fatal("a fourth step was accepted")
	}
	// with the user name as initial response (AUTH LOGIN YW5uYQ==)
	l = newLoginServer(check)
	if c, _, _ := l.Next([]byte("anna")); string(c) != "Password:" {
		t.Fatalf("initial response: %q", c)
	}
	if _, done, err := l.Next([]byte("wrong")); !done || err == nil {
		t.Fatal("wrong password accepted")
	}
}
