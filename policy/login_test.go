package policy

import (
	"errors"
	"testing"
)

func TestCheckLogin(t *testing.T) {
	ok := LoginFacts{ConsentPlatform: true, ConsentComms: true}
	cases := []struct {
		name    string
		f       LoginFacts
		svc     Service
		purpose LoginPurpose
		rule    Rule // "" = allowed
	}{
		{"normal", ok, ServiceMail, PurposeUse, ""},
		{"locked", LoginFacts{Locked: true, LockReason: "Verstoß", ConsentPlatform: true, ConsentComms: true}, ServiceFiles, PurposeUse, AccountLocked},
		{"locked even for password change", LoginFacts{Locked: true, MustChange: true, ConsentPlatform: true}, ServiceWeb, PurposeChangePassword, AccountLocked},
		{"must change", LoginFacts{MustChange: true, ConsentPlatform: true, ConsentComms: true}, ServiceMail, PurposeUse, PWMustChange},
		{"must change may change", LoginFacts{MustChange: true, ConsentPlatform: true}, ServiceWeb, PurposeChangePassword, ""},
		{"no platform consent", LoginFacts{ConsentComms: true}, ServiceFiles, PurposeUse, ConsentPlatform},
		{"no comms consent: mail closed", LoginFacts{ConsentPlatform: true}, ServiceMail, PurposeUse, ConsentComms},
		{"no comms consent: chat closed", LoginFacts{ConsentPlatform: true}, ServiceChat, PurposeUse, ConsentComms},
		{"no comms consent: files open", LoginFacts{ConsentPlatform: true}, ServiceFiles, PurposeUse, ""},
	}
	for _, c := range cases {
		d := CheckLogin(c.f, c.svc, c.purpose)
		if c.rule == "" && !d.Allow {
			t.Errorf("%s: refused %s", c.name, d)
		}
		if c.rule != "" && (d.Allow || d.Rule != c.rule) {
			t.Errorf("%s: got %v, want %s", c.name, d, c.rule)
		}
	}
}

func TestDecisionErr(t *testing.T) {
	if Allowed.Err() != nil {
		t.Error("Allowed.Err() != nil")
	}
	err := Deny(AccountLocked, "gesperrt").Err()
	var re *RefusalError
	if !errors.As(err, &re) || re.Decision.Rule != AccountLocked {
		t.Fatalf("refusal does not travel as RefusalError: %v", err)
	}
	if err.Error() != "[ACCOUNT-LOCKED] gesperrt" {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []string{"student", "teacher", "admin", "auditor"} {
		if _, d := ParseRole(r); !d.Allow {
			t.Errorf("ParseRole(%q) refused", r)
		}
	}
	for _, r := range []string{"", "Student", "root", "moderator"} {
		if _, d := ParseRole(r); d.Allow {
			t.Errorf("ParseRole(%q) allowed", r)
		}
	}
}

func TestRuleTableComplete(t *testing.T) {
	seen := map[Rule]bool{}
	for _, r := range Table {
		if seen[r.ID] {
			t.Errorf("rule %s twice in Table", r.ID)
		}
		seen[r.ID] = true
		if r.Source == "" || r.Where == "" {
			t.Errorf("rule %s lacks source or place", r.ID)
		}
	}
	for _, id := range []Rule{PWStrength, Size20MB, MailInternal, MailMass, LinkBlock, AccountLocked, PWMustChange, ConsentPlatform, ChatReadReported, ForumModScope, AuditInspect} {
		if !seen[id] {
			t.Errorf("DESIGN.md rule %s missing from Table", id)
		}
	}
}
