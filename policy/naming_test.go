package policy

import (
	"strings"
	"testing"
)

func TestAccountBase(t *testing.T) {
	cases := []struct{ first, last, want string }{
		{"Max", "Müller", "max.mueller"},
		{"Zoë", "Schmidt", "zoe.schmidt"},
		{"Anna-Lena", "Meier", "anna-lena.meier"},
		{"Juan", "de la Cruz", "juan.de-la-cruz"},
		{"Jürgen", "Groß", "juergen.gross"},
		{"Ömer", "Çelik", "oemer.celik"},
		{"  Émilie ", "Lefèvre", "emilie.lefevre"},
		{"ÄNNE", "ÜBEL", "aenne.uebel"},
		{"Jean-  Luc", "O'Brien", "jean-luc.obrien"},
		{"Łukasz", "Wałęsa", "lukasz.walesa"},
		{"Max 2", "Mustermann", "max-2.mustermann"},
	}
	for _, c := range cases {
		got, d := AccountBase(c.first, c.last)
		if !d.Allow || got != c.want {
			t.Errorf("AccountBase(%q, %q) = %q, %v; want %q", c.first, c.last, got, d, c.want)
		}
	}
}

func TestAccountBaseRefusesEmpty(t *testing.T) {
	for _, c := range [][2]string{{"", "Müller"}, {"Max", ""}, {"!!!", "Müller"}, {"李", "王"}} {
		if _, d := AccountBase(c[0], c[1]); d.Allow || d.Rule != Naming {
			t.Errorf("AccountBase(%q, %q) allowed, want NAMING refusal", c[0], c[1])
		}
	}
}

func TestAccountCandidates(t *testing.T) {
	// two Max Müller: the second is max.mueller2
	if got := AccountCandidate("max.mueller", 1); got != "max.mueller" {
		t.Errorf("candidate 1 = %q", got)
	}
	if got := AccountCandidate("max.mueller", 2); got != "max.mueller2" {
		t.Errorf("candidate 2 = %q", got)
	}
}

func TestAccountNameWarning(t *testing.T) {
	if w := AccountNameWarning("max.mueller"); w != "" {
		t.Errorf("short name warned: %q", w)
	}
	if w := AccountNameWarning("maximilian.mueller-luedenscheidt"); w == "" {
		t.Error("long name not warned")
	}
}

func TestValidAccountName(t *testing.T) {
	good := []string{"max.mueller", "max.mueller2", "anna-lena.meier", "juan.de-la-cruz"}
	bad := []string{"", "max", ".mueller", "max.", "max..mueller", "max.mü", "../etc", "max/mueller", "MAX.MUELLER", "a.b.c"}
	for _, s := range good {
		if !ValidAccountName(s) {
			t.Errorf("ValidAccountName(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidAccountName(s) {
			t.Errorf("ValidAccountName(%q) = true", s)
		}
	}
}

func TestGroupName(t *testing.T) {
	good := map[string]string{"5a": "5a", "5A": "5a", "Mathe-LK": "mathe-lk", "AG Robotik": "ag-robotik", "q1_bio": "q1_bio", "Kunst Ü": "kunst-ue"}
	for in, want := range good {
		if got, d := GroupName(in); !d.Allow || got != want {
			t.Errorf("GroupName(%q) = %q, %v; want %q", in, got, d, want)
		}
	}
	for _, in := range []string{"", "5.a", "../x", "a/b", "x@y", "-"} {
		if _, d := GroupName(in); d.Allow {
			t.Errorf("GroupName(%q) allowed", in)
		}
	}
}

// TestNameBounds: account, group and person names over their bounds are
// refused with LIMIT-NAME naming the config key; at the bound they pass,
// and a raised bound is in force.
func TestNameBounds(t *testing.T) {
	e := NewEngine()
	long := strings.Repeat("a", 32) + "." + strings.Repeat("b", 31) // 64 bytes
	if d := e.CheckAccountName(long); !d.Allow {
		t.Fatalf("64 bytes: %v", d)
	}
	if d := e.CheckAccountName(long + "2"); d.Allow || d.Rule != LimitName || !strings.Contains(d.Reason, "account_name_bytes") ||
		!strings.Contains(d.Reason, long+"2") {
		t.Fatalf("65 bytes: %v", d)
	}
	if n, d := e.GroupName(strings.Repeat("G", 64)); !d.Allow || n != strings.Repeat("g", 64) {
		t.Fatalf("group at the bound: %q %v", n, d)
	}
	if _, d := e.GroupName(strings.Repeat("g", 65)); d.Allow || d.Rule != LimitName || !strings.Contains(d.Reason, "group_name_bytes") {
		t.Fatalf("group over the bound: %v", d)
	}
	if _, d := e.GroupName("a/b"); d.Rule != Naming {
		t.Fatalf("bad group shape: %v", d)
	}
	if d := e.CheckPersonName(strings.Repeat("x", 100), "Müller"); !d.Allow {
		t.Fatalf("person at the bound: %v", d)
	}
	if d := e.CheckPersonName("Max", strings.Repeat("x", 101)); d.Allow || d.Rule != LimitName || !strings.Contains(d.Reason, "person_name_bytes") {
		t.Fatalf("person over the bound: %v", d)
	}
	if err := e.SetBound(AccountNameBytes, 80); err != nil {
		t.Fatal(err)
	}
	if d := e.CheckAccountName(long + "2"); !d.Allow {
		t.Fatalf("raised bound not in force: %v", d)
	}
}
