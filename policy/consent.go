package policy

import "time"

// Einwilligung: who must sign the consent form depends on the pupil's age
// on the day it is signed. Below 14 the parents decide; from 14 to 17 the
// parents and the pupil both sign (the pupil can judge, the parents still
// hold custody); from 18 the pupil alone. Staff sign for themselves.

// ConsentScope names one of the two consents of the form.
type ConsentScope string

const (
	ScopePlatform ConsentScope = "platform" // Nutzung der Plattform
	ScopeComms    ConsentScope = "comms"    // E-Mail, Chat (Internet)
)

// Rule is the rule that a consent of this scope stands for.
func (c ConsentScope) Rule() Rule {
	if c == ScopeComms {
		return ConsentComms
	}
	return ConsentPlatform
}

// Text is the scope's German name.
func (c ConsentScope) Text() string {
	if c == ScopeComms {
		return "E-Mail und Chat"
	}
	return "Nutzung der Plattform"
}

// Signer is who signed a consent form.
type Signer string

const (
	SignerParents Signer = "eltern" // the parents (custodians)
	SignerSelf    Signer = "selbst" // the person themself (pupil or staff)
	SignerBoth    Signer = "beide"  // parents and pupil
)

// ParseSigner reads the CLI's and the import's spelling.
func ParseSigner(s string) (Signer, bool) {
	switch s {
	case "eltern", "erziehungsberechtigte":
		return SignerParents, true
	case "schueler", "schüler", "schuelerin", "schülerin", "selbst", "person":
		return SignerSelf, true
	case "beide", "eltern+schueler", "eltern+schüler":
		return SignerBoth, true
	}
	return "", false
}

// SignerText is the German text for a signer of an account with role.
func SignerText(s Signer, role Role) string {
	switch s {
	case SignerParents:
		return "Eltern"
	case SignerBoth:
		return "Eltern und Schüler/in"
	case SignerSelf:
		if role == Student {
			return "Schüler/in selbst"
		}
		return "die Person selbst"
	}
	return string(s)
}

// Age is the age in whole years on day on of a person born on birth.
func Age(birth, on time.Time) int {
	by, bm, bd := birth.Date()
	oy, om, od := on.Date()
	age := oy - by
	if om < bm || om == bm && od < bd {
		age--
	}
	return age
}

// ConsentFacts are what decides who must sign.
type ConsentFacts struct {
	Role  Role
	Birth time.Time // zero: not known
	On    time.Time // the day the form was signed
}

// RequiredSigner says who must sign, and why (German, for refusals).
// A pupil without a known birth date needs both signatures: that covers
// every age.
func RequiredSigner(f ConsentFacts) (Signer, string) {
	if f.Role != Student {
		return SignerSelf, "Lehrkräfte und Verwaltung willigen selbst ein"
	}
	if f.Birth.IsZero() {
		return SignerBoth, "ohne Geburtsdatum unterschreiben Eltern und Schüler/in"
	}
	switch age := Age(f.Birth, f.On); {
	case age < 14:
		return SignerParents, "unter 14 Jahren willigen die Eltern ein"
	case age < 18:
		return SignerBoth, "von 14 bis 17 Jahren willigen Eltern und Schüler/in ein"
	default:
		return SignerSelf, "ab 18 Jahren willigt der Schüler/die Schülerin selbst ein"
	}
}

// CheckConsentSigner decides whether a form signed by by is a valid
// consent of scope. The required signatures must all be there: "beide"
// also satisfies a rule that needs only the parents (below 14) or only the
// pupil (from 18), since the one who must sign did. Parents never sign for
// staff or for an adult alone.
func CheckConsentSigner(scope ConsentScope, f ConsentFacts, by Signer) Decision {
	need, why := RequiredSigner(f)
	ok := by == need
	if f.Role == Student && by == SignerBoth {
		ok = true
	}
	if !ok {
		return Deny(scope.Rule(), "Einwilligung (%s) von %q ungültig: %s.", scope.Text(), SignerText(by, f.Role), why)
	}
	return Allowed
}
