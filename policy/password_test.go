package policy

import (
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	facts := PasswordFacts{FirstName: "Jürgen", LastName: "Groß", AccountName: "juergen.gross"}
	cases := []struct {
		pw    string
		allow bool
		why   string
	}{
		{"Str0ng!Passw0rd", true, ""},
		{"Aa1!aaaa", true, ""},
		{"Kp7w-Rm4z-Xa9d", true, ""},
		{"Äpfel#2026x", true, ""},
		{"Aa1!aaa", false, "mindestens 8"},
		{"alllower1!", false, "Großbuchstaben"},
		{"ALLUPPER1!", false, "Kleinbuchstaben"},
		{"NoDigits!!", false, "Ziffern"},
		{"NoSpecial12", false, "Sonderzeichen"},
		{"Passwort1!", false, "erraten"},
		{"Schule2026!", false, "erraten"},
		{"Juergen#2026", false, "Namen"},
		{"xxGroß!12Ab", false, "Namen"},
		{"Gross!12abX", false, "Namen"},
		{"Tab\tTab1!x", false, "Steuerzeichen"},
		{strings.Repeat("Aa1!", 100), false, "zu lang"},
		{"Aa1!\xff\xfeaaaa", false, "ungültige"},
	}
	for _, c := range cases {
		d := CheckPassword(c.pw, facts)
		if d.Allow != c.allow {
			t.Errorf("CheckPassword(%q) allow=%v (%s), want %v", c.pw, d.Allow, d, c.allow)
			continue
		}
		if !c.allow {
			if d.Rule != PWStrength {
				t.Errorf("CheckPassword(%q) rule %s, want PW-STRENGTH", c.pw, d.Rule)
			}
			if !strings.Contains(d.Reason, c.why) {
				t.Errorf("CheckPassword(%q) reason %q, want it to mention %q", c.pw, d.Reason, c.why)
			}
			if !strings.HasPrefix(d.String(), "[PW-STRENGTH] ") {
				t.Errorf("refusal text %q does not name the rule", d.String())
			}
		}
	}
}
