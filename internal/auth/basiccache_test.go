package auth

import (
	"errors"
	"testing"
	"time"

	"schulhof/store"
)

// TestBasicCacheReuse: a login lives for the TTL, a failed still-check ends
// the presented login (EndLogin) or all of the account's (EndAccount), and
// a read error ends it too.
func TestBasicCacheReuse(t *testing.T) {
	clock := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	c := NewBasicCache(time.Minute, func() time.Time { return clock })
	cur := &store.Account{Name: "anna", PasswordHash: "h1"}
	read := func(name string) (*store.Account, error) {
		if name != "anna" {
			return nil, errors.New("no such account")
		}
		return cur, nil
	}
	same := func(was, now *store.Account) bool { return was.PasswordHash == now.PasswordHash }

	if a := c.Reuse("anna", "pw1", read, same, EndLogin); a != nil {
		t.Fatalf("reused a login never put: %+v", a)
	}
	c.Put("anna", "pw1", &store.Account{Name: "anna", PasswordHash: "h1"})
	c.Put("anna", "pw2", &store.Account{Name: "anna", PasswordHash: "h1"})
	if a := c.Reuse("anna", "pw1", read, same, EndLogin); a != cur {
		t.Fatalf("live login not reused: %+v", a)
	}
	if a := c.Reuse("anna", "other", read, same, EndLogin); a != nil {
		t.Fatal("a wrong password reused the login")
	}

	cur = &store.Account{Name: "anna", PasswordHash: "h2"} // a new password
	if a := c.Reuse("anna", "pw1", read, same, EndLogin); a != nil {
		t.Fatal("login reused after the password changed")
	}
	if c.Get("anna", "pw1") != nil || c.Get("anna", "pw2") == nil {
		t.Fatal("EndLogin must end the presented login only")
	}
	if a := c.Reuse("anna", "pw2", read, same, EndAccount); a != nil || c.Get("anna", "pw2") != nil {
		t.Fatal("EndAccount left the login")
	}

	c.Put("anna", "pw3", &store.Account{Name: "anna", PasswordHash: "h2"})
	c.Put("anna", "pw4", &store.Account{Name: "anna", PasswordHash: "h1"})
	if a := c.Reuse("anna", "pw4", read, same, EndAccount); a != nil || c.Get("anna", "pw3") != nil {
		t.Fatal("EndAccount must end every login of the account")
	}

	c.Put("bert", "pw", &store.Account{Name: "bert"})
	if a := c.Reuse("bert", "pw", read, func(_, _ *store.Account) bool { return true }, EndLogin); a != nil || c.Get("bert", "pw") != nil {
		t.Fatal("a read error must end the login")
	}

	c.Put("anna", "pw5", &store.Account{Name: "anna", PasswordHash: "h2"})
	clock = clock.Add(time.Minute + time.Second)
	if a := c.Reuse("anna", "pw5", read, same, EndLogin); a != nil {
		t.Fatal("login reused after its TTL")
	}
}
