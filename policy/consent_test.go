package policy

import (
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAge(t *testing.T) {
	cases := []struct {
		birth, on string
		age       int
	}{
		{"2012-05-03", "2026-05-02", 13},
		{"2012-05-03", "2026-05-03", 14},
		{"2008-12-01", "2026-11-30", 17},
		{"2008-12-01", "2026-12-01", 18},
		{"2008-02-29", "2026-02-28", 17}, // born on a leap day: 18 on 1 March
		{"2008-02-29", "2026-03-01", 18},
	}
	for _, c := range cases {
		if got := Age(day(c.birth), day(c.on)); got != c.age {
			t.Errorf("Age(%s, %s) = %d, want %d", c.birth, c.on, got, c.age)
		}
	}
}

// TestConsentSigner is the table of the Einwilligung's signer rule: below
// 14 the parents, 14 to 17 parents and pupil, from 18 the pupil; staff
// themselves; a pupil without birth date both.
func TestConsentSigner(t *testing.T) {
	on := day("2026-09-01")
	cases := []struct {
		name  string
		role  Role
		birth string // "" unknown
		by    Signer
		ok    bool
	}{
		{"13: parents", Student, "2013-01-01", SignerParents, true},
		{"13: pupil alone", Student, "2013-01-01", SignerSelf, false},
		{"13: both", Student, "2013-01-01", SignerBoth, true},
		{"13 on the eve of 14: pupil alone", Student, "2012-09-02", SignerSelf, false},
		{"14 on the day: parents alone", Student, "2012-09-01", SignerParents, false},
		{"14: both", Student, "2012-09-01", SignerBoth, true},
		{"16: pupil alone", Student, "2010-03-15", SignerSelf, false},
		{"17: parents alone", Student, "2009-09-02", SignerParents, false},
		{"17: both", Student, "2009-09-02", SignerBoth, true},
		{"18: pupil", Student, "2008-09-01", SignerSelf, true},
		{"18: both (the pupil signed)", Student, "2008-09-01", SignerBoth, true},
		{"18: parents alone", Student, "2008-09-01", SignerParents, false},
		{"no birth date: both", Student, "", SignerBoth, true},
		{"no birth date: parents", Student, "", SignerParents, false},
		{"no birth date: pupil", Student, "", SignerSelf, false},
		{"teacher: self", Teacher, "", SignerSelf, true},
		{"teacher: parents", Teacher, "", SignerParents, false},
		{"teacher: both", Teacher, "", SignerBoth, false},
		{"admin: self", Admin, "", SignerSelf, true},
		{"auditor: self", Auditor, "1970-01-01", SignerSelf, true},
	}
	for _, c := range cases {
		f := ConsentFacts{Role: c.role, On: on}
		if c.birth != "" {
			f.Birth = day(c.birth)
		}
		for _, scope := range []ConsentScope{ScopePlatform, ScopeComms} {
			d := CheckConsentSigner(scope, f, c.by)
			if d.Allow != c.ok {
				t.Errorf("%s (%s): %v, want allowed=%v", c.name, scope, d, c.ok)
			}
			if !d.Allow && d.Rule != scope.Rule() {
				t.Errorf("%s (%s): refused with %s, want %s", c.name, scope, d.Rule, scope.Rule())
			}
		}
	}
}

func TestParseSigner(t *testing.T) {
	for in, want := range map[string]Signer{"eltern": SignerParents, "schueler": SignerSelf, "schüler": SignerSelf,
		"selbst": SignerSelf, "beide": SignerBoth} {
		if got, ok := ParseSigner(in); !ok || got != want {
			t.Errorf("ParseSigner(%q) = %q %v", in, got, ok)
		}
	}
	if _, ok := ParseSigner("lehrer"); ok {
		t.Error("unknown signer accepted")
	}
}

func TestSessionAllowed(t *testing.T) {
	ok := LoginFacts{ConsentPlatform: true, ConsentComms: true}
	cases := []struct {
		name string
		f    LoginFacts
		svc  Service
		rule Rule
	}{
		{"normal", ok, ServiceMail, ""},
		{"must change does not end a session", LoginFacts{MustChange: true, ConsentPlatform: true, ConsentComms: true}, ServiceMail, ""},
		{"locked", LoginFacts{Locked: true, ConsentPlatform: true, ConsentComms: true}, ServiceFiles, AccountLocked},
		{"platform withdrawn: files", LoginFacts{ConsentComms: true}, ServiceFiles, ConsentPlatform},
		{"platform withdrawn: web", LoginFacts{ConsentComms: true}, ServiceWeb, ConsentPlatform},
		{"comms withdrawn: mail", LoginFacts{ConsentPlatform: true}, ServiceMail, ConsentComms},
		{"comms withdrawn: chat", LoginFacts{ConsentPlatform: true}, ServiceChat, ConsentComms},
		{"comms withdrawn: files go on", LoginFacts{ConsentPlatform: true}, ServiceFiles, ""},
		{"comms withdrawn: portal goes on", LoginFacts{ConsentPlatform: true}, ServiceWeb, ""},
	}
	for _, c := range cases {
		d := SessionAllowed(c.f, c.svc)
		if c.rule == "" && !d.Allow || c.rule != "" && (d.Allow || d.Rule != c.rule) {
			t.Errorf("%s: %v, want %q", c.name, d, c.rule)
		}
	}
}

func TestCheckReceive(t *testing.T) {
	if d := CheckReceive(LoginFacts{Locked: true, ConsentPlatform: true, ConsentComms: true}); !d.Allow {
		t.Errorf("locked account gets no mail: %v", d)
	}
	if d := CheckReceive(LoginFacts{ConsentPlatform: true}); d.Rule != ConsentComms {
		t.Errorf("without comms consent: %v", d)
	}
	if d := CheckReceive(LoginFacts{ConsentComms: true}); d.Rule != ConsentPlatform {
		t.Errorf("without platform consent: %v", d)
	}
}
