package store

import (
	"testing"
	"time"
)

func TestDavLocksSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	now := time.Now()
	for _, n := range []string{"ada.a", "bob.b"} {
		if _, err := s.CreateAccount(Account{First: "X", Last: "Y", Role: "student"}, cand(n)); err != nil {
			t.Fatal(err)
		}
	}
	put := func(acct, tok string, exp time.Time) {
		t.Helper()
		if err := s.PutDavLock(DavLock{Token: tok, Account: acct, Tree: "h:" + acct, Root: "/h:" + acct + "/f", Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	put("ada.a", "t1", now.Add(time.Hour))
	put("ada.a", "t2", now.Add(-time.Second))
	put("bob.b", "t3", now.Add(time.Hour))
	put("bob.b", "t4", now.Add(time.Hour))
	if err := s.DeleteDavLock("bob.b", "t4"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	live, err := s.DavLocks(now)
	if err != nil || len(live) != 2 {
		t.Fatalf("live locks after reopen: %v %v", live, err)
	}
	if err := s.PurgeDavLocks(now); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.DavLocks(time.Time{}); len(all) != 2 {
		t.Fatalf("after purge: %v", all)
	}
	if err := s.DeleteAccount("bob.b"); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.DavLocks(time.Time{}); len(all) != 1 || all[0].Token != "t1" {
		t.Fatalf("after deleting bob: %v", all)
	}
}
