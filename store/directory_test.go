package store

import (
	"slices"
	"testing"
)

// TestPeopleAndMemberships: the address book's view of accounts carries
// only what it shows, reads one or many accounts, and lists each group
// once per account even for a teacher who is also a member.
func TestPeopleAndMemberships(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	name := func(n string) func(int) string { return func(int) string { return n } }
	for _, a := range []Account{
		{First: "Anna", Last: "Lehrer", Role: "teacher", PasswordHash: "secret-hash", BirthDate: "1980-01-01", Nickname: "AL"},
		{First: "Max", Last: "Müller", Role: "student", LastLoginIP: "10.0.0.1"},
	} {
		if _, err := s.CreateAccount(a, name(a.First)); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"6b", "5a"} {
		if err := s.CreateGroup(Group{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		g    string
		role GroupRole
		n    string
	}{{"5a", AsMember, "Anna"}, {"5a", AsTeacher, "Anna"}, {"6b", AsTeacher, "Anna"}, {"5a", AsMember, "Max"}} {
		if _, err := s.AddToGroup(step.g, step.role, step.n); err != nil {
			t.Fatal(err)
		}
	}
	people, err := s.People()
	if err != nil || len(people) != 2 || people[0] != (Person{Name: "Anna", First: "Anna", Last: "Lehrer", Nickname: "AL", Role: "teacher"}) {
		t.Fatalf("people %+v %v", people, err)
	}
	p, err := s.Person("Max")
	if err != nil || p.Last != "Müller" {
		t.Fatalf("person %+v %v", p, err)
	}
	if _, err := s.Person("nobody"); err == nil {
		t.Fatal("unknown person found")
	}
	some, err := s.PeopleNamed([]string{"Max", "nobody"})
	if err != nil || len(some) != 1 || some["Max"].First != "Max" {
		t.Fatalf("named %+v %v", some, err)
	}
	of, err := s.Memberships()
	if err != nil || !slices.Equal(of["Anna"], []string{"5a", "6b"}) || !slices.Equal(of["Max"], []string{"5a"}) {
		t.Fatalf("memberships %v %v", of, err)
	}
}
