package policy

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// AccountNameWarnLength is the length above which an account name is
// accepted with a warning (some old clients and printed letters cut it).
const AccountNameWarnLength = 20

// germanFolds are the transliterations DESIGN.md fixes; every other accent
// is stripped by Unicode decomposition.
var germanFolds = strings.NewReplacer(
	"ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss",
	"Ä", "ae", "Ö", "oe", "Ü", "ue", "ẞ", "ss",
	"æ", "ae", "œ", "oe", "ø", "o", "ł", "l", "đ", "d", "ı", "i",
	"Æ", "ae", "Œ", "oe", "Ø", "o", "Ł", "l", "Đ", "d", "Þ", "th", "þ", "th",
)

// Transliterate lower-cases s, folds German umlauts (ä→ae, ö→oe, ü→ue,
// ß→ss) and strips all other accents (é→e, ë→e).
func Transliterate(s string) string {
	s = germanFolds.Replace(norm.NFC.String(s))
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// namePart turns one name (first or last) into its account form: spaces
// become "-", only a-z, 0-9 and "-" remain, runs of "-" collapse.
func namePart(s string) string {
	s = Transliterate(strings.TrimSpace(s))
	var b strings.Builder
	lastDash := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			lastDash = false
		case r == ' ' || r == '-' || unicode.IsSpace(r):
			if !lastDash {
				b.WriteByte('-')
				lastDash = true
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// AccountBase derives the account name vorname.nachname from a person's
// names (before any collision suffix).
func AccountBase(first, last string) (string, Decision) {
	f, l := namePart(first), namePart(last)
	if f == "" || l == "" {
		return "", Deny(Naming, "Vor- und Nachname müssen mindestens einen Buchstaben enthalten (%q, %q).", first, last)
	}
	return f + "." + l, Allowed
}

// AccountCandidate returns the n-th candidate for a base name: n=1 is the
// base itself, then base2, base3, …
func AccountCandidate(base string, n int) string {
	if n <= 1 {
		return base
	}
	return base + strconv.Itoa(n)
}

// AccountNameWarning returns a warning text for a long account name, or "".
func AccountNameWarning(name string) string {
	if len(name) > AccountNameWarnLength {
		return "account name " + name + " is longer than " + strconv.Itoa(AccountNameWarnLength) + " characters"
	}
	return ""
}

// ValidAccountName reports whether s has the shape of an account name, so
// that user input (logins, CLI arguments, paths) can be checked before any
// lookup.
func ValidAccountName(s string) bool {
	if len(s) < 3 || len(s) > 128 {
		return false
	}
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 || strings.Count(s, ".") != 1 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// GroupName normalizes and checks the shape of a group name ("5a",
// "Mathe-LK", "AG Robotik" → "ag-robotik"): lower case, letters, digits,
// "-" and "_". Its length is Engine.GroupName's to check.
func GroupName(s string) (string, Decision) {
	n := namePartKeep(s)
	if n == "" {
		return "", Deny(Naming, "Ungültiger Gruppenname %q: erlaubt sind a-z, 0-9, - und _.", s)
	}
	return n, Allowed
}

// GroupName is GroupName with the bound group_name_bytes: a longer name
// is refused (LIMIT-NAME), never cut.
func (e *Engine) GroupName(s string) (string, Decision) {
	n, d := GroupName(s)
	if !d.Allow {
		return "", d
	}
	if d := e.checkName(GroupNameBytes, n, "Der Gruppenname %q ist %d Bytes lang, erlaubt sind höchstens %d (%s)."); !d.Allow {
		return "", d
	}
	return n, Allowed
}

// CheckAccountName refuses an account name longer than account_name_bytes
// (LIMIT-NAME). Names are never cut: a cut name could be another
// person's, and the mail address is the name.
func (e *Engine) CheckAccountName(name string) Decision {
	return e.checkName(AccountNameBytes, name, "Der Kontoname %q wäre %d Bytes lang, erlaubt sind höchstens %d (%s); "+
		"er wird nicht gekürzt. Bitte Vor- oder Nachname kürzer angeben (etwa nur den Rufnamen).")
}

// CheckPersonName refuses a first or last name longer than
// person_name_bytes (LIMIT-NAME).
func (e *Engine) CheckPersonName(first, last string) Decision {
	for _, n := range []string{first, last} {
		if d := e.checkName(PersonNameBytes, n, "Der Name %q ist %d Bytes lang, erlaubt sind höchstens %d (%s)."); !d.Allow {
			return d
		}
	}
	return Allowed
}

// checkName refuses name when it is longer than the bound k, with a
// message (name, length, bound, key) that says which name and why.
func (e *Engine) checkName(k BoundKey, name, format string) Decision {
	limit := e.Bound(k)
	if int64(len(name)) <= limit {
		return Allowed
	}
	return Deny(boundInfo(k).Rule, format, name, len(name), limit, k)
}

func namePartKeep(s string) string {
	s = Transliterate(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		default:
			return ""
		}
	}
	return strings.Trim(b.String(), "-")
}
