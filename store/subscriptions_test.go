package store

import (
	"reflect"
	"testing"
)

// A subscription is a name: CREATE does not add one, DELETE keeps it,
// RENAME takes it along, deleting the account removes them all.
func TestSubscriptionsAreNames(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	if err := s.EnsureMailboxes("anna"); err != nil {
		t.Fatal(err)
	}
	subs := func() map[string]bool {
		t.Helper()
		m, err := s.Subscriptions("anna")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if !subs()[Inbox] {
		t.Fatal("default mailboxes are subscribed")
	}
	if _, err := s.CreateMailbox("anna", "Kurs", ""); err != nil {
		t.Fatal(err)
	}
	if subs()["Kurs"] {
		t.Fatal("CREATE subscribed")
	}
	for _, n := range []string{"Kurs", "Alt", "Gibt/Es/Nicht"} {
		if err := s.SetSubscribed("anna", n, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateMailbox("anna", "Alt", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMailbox("anna", "Alt"); err != nil {
		t.Fatal(err)
	}
	if err := s.RenameMailbox("anna", "Kurs", "Kurs2025"); err != nil {
		t.Fatal(err)
	}
	got := subs()
	for n, want := range map[string]bool{"Alt": true, "Gibt/Es/Nicht": true, "Kurs": false, "Kurs2025": true} {
		if got[n] != want {
			t.Errorf("%s subscribed %v, want %v (%v)", n, got[n], want, got)
		}
	}
	if err := s.SetSubscribed("anna", "Alt", false); err != nil {
		t.Fatal(err)
	}
	if subs()["Alt"] {
		t.Fatal("UNSUBSCRIBE kept it")
	}
	if err := s.DeleteAccount("anna"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Subscriptions("anna"); !reflect.DeepEqual(m, map[string]bool{}) {
		t.Fatalf("after account deletion: %v", m)
	}
}
