package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinPasswordLength is the Nutzungsordnung's "mindestens acht Zeichen".
const MinPasswordLength = 8

// maxPasswordBytes bounds the work a hostile client can make argon2 do.
const maxPasswordBytes = 256

// commonPasswords are passwords that pass the character-class rule but are
// guessed first by anyone (lower-cased; compared case-insensitively).
var commonPasswords = map[string]bool{
	"passwort1!": true, "password1!": true, "passwort123!": true, "password123!": true,
	"qwertz123!": true, "qwerty123!": true, "willkommen1!": true, "welcome1!": true,
	"sommer2024!": true, "sommer2025!": true, "sommer2026!": true, "winter2025!": true,
	"winter2026!": true, "herbst2026!": true, "fruehling2026!": true, "hallo123!": true,
	"schule123!": true, "schule2026!": true, "schule1!": true, "iserv123!": true,
	"abc12345!": true, "abcd1234!": true, "admin123!": true, "test1234!": true,
	"letmein1!": true, "p@ssw0rd": true, "p@ssword1": true, "passw0rd!": true,
	"start123!": true, "geheim123!": true, "fussball1!": true, "football1!": true,
	"iloveyou1!": true, "monkey123!": true, "dragon123!": true, "master123!": true,
	"asdf1234!": true, "qwer1234!": true, "1q2w3e4r!": true, "changeme1!": true,
	"password1": true, "passwort1": true, "12345678": true, "123456789": true,
}

// PasswordFacts are what PW-STRENGTH looks at besides the password.
type PasswordFacts struct {
	FirstName, LastName string
	AccountName         string
}

// CheckPassword applies PW-STRENGTH: at least eight characters with upper
// and lower case letters, a digit and a special character; not one of the
// very common passwords; not containing the person's own names.
func CheckPassword(pw string, f PasswordFacts) Decision {
	if !utf8.ValidString(pw) {
		return Deny(PWStrength, "Das Passwort enthält ungültige Zeichen.")
	}
	if len(pw) > maxPasswordBytes {
		return Deny(PWStrength, "Das Passwort ist zu lang (höchstens %d Bytes).", maxPasswordBytes)
	}
	if utf8.RuneCountInString(pw) < MinPasswordLength {
		return Deny(PWStrength, "Das Passwort muss mindestens %d Zeichen lang sein.", MinPasswordLength)
	}
	var upper, lower, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsControl(r):
			return Deny(PWStrength, "Das Passwort enthält Steuerzeichen.")
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			special = true
		}
	}
	var missing []string
	if !upper {
		missing = append(missing, "Großbuchstaben")
	}
	if !lower {
		missing = append(missing, "Kleinbuchstaben")
	}
	if !digit {
		missing = append(missing, "Ziffern")
	}
	if !special {
		missing = append(missing, "Sonderzeichen")
	}
	if len(missing) > 0 {
		return Deny(PWStrength, "Dem Passwort fehlen: %s.", strings.Join(missing, ", "))
	}
	low := strings.ToLower(pw)
	if commonPasswords[low] {
		return Deny(PWStrength, "Das Passwort ist zu leicht zu erraten.")
	}
	for _, name := range nameParts(f) {
		if strings.Contains(low, name) || strings.Contains(Transliterate(low), name) {
			return Deny(PWStrength, "Das Passwort darf den eigenen Namen nicht enthalten.")
		}
	}
	return Allowed
}

// nameParts returns the lower-cased name words of at least three letters,
// in original and transliterated spelling.
func nameParts(f PasswordFacts) []string {
	var out []string
	add := func(s string) {
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !unicode.IsLetter(r)
		}) {
			if utf8.RuneCountInString(w) >= 3 {
				out = append(out, w, Transliterate(w))
			}
		}
	}
	add(f.FirstName)
	add(f.LastName)
	if i := strings.IndexByte(f.AccountName, '.'); i > 0 {
		add(f.AccountName)
	}
	return out
}
