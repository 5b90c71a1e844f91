package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsentCLI drives the consent and leavers commands through the
// running server's admin socket and, stopped, in local mode.
func TestConsentCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "[privacy]\nleaver_grace_days = 30\n")
	srv := Start(t, cfg)

	csv := filepath.Join(t.TempDir(), "klasse.csv")
	os.WriteFile(csv, []byte("Vorname;Nachname;Klasse;Rolle;Einwilligung;Geburtsdatum\r\n"+
		"Mia;Sommer;5a;S;keine;03.05.2015\r\nJonas;Winter;9b;S;plattform;14.02.2011\r\nLuca;Herbst;12;S;plattform+kommunikation;01.01.2007\r\n"), 0o600)
	ok(t, cfg, "", "import", "users", csv, "--consent-form", "2026-08")

	out := ok(t, cfg, "", "consent", "show", "jonas.winter")
	for _, want := range []string{"Geburtsdatum:     2011-02-14", "Unterschreiben:   Eltern und Schüler/in (von 14 bis 17 Jahren",
		"Nutzung der Plattform:\n  Status:         erteilt", "von:            Eltern und Schüler/in", "Formular:       2026-08",
		"E-Mail und Chat:\n  Status:         nicht erteilt"} {
		if !strings.Contains(out, want) {
			t.Errorf("consent show lacks %q:\n%s", want, out)
		}
	}
	// Mia is 11 on the day: the pupil alone may not sign.
	fails(t, cfg, "", "[CONSENT-PLATFORM]", "consent", "record", "mia.sommer", "--platform", "--by", "schueler", "--date", "2026-09-01", "--form", "2026-08")
	fails(t, cfg, "", "[CONSENT-COMMS]", "consent", "record", "jonas.winter", "--comms", "--by", "eltern", "--date", "2026-09-01", "--form", "2026-08")
	fails(t, cfg, "", "exactly one of --platform and --comms", "consent", "record", "mia.sommer", "--by", "eltern", "--date", "2026-09-01", "--form", "x")
	ok(t, cfg, "", "consent", "record", "mia.sommer", "--platform", "--by", "eltern", "--date", "2026-09-01", "--form", "2026-08")
	ok(t, cfg, "", "consent", "record", "jonas.winter", "--comms", "--by", "beide", "--date", "2026-09-02", "--form", "2026-08")
	if out := ok(t, cfg, "", "consent", "show", "mia.sommer"); !strings.Contains(out, "gegeben am:     2026-09-01\n  von:            Eltern") {
		t.Errorf("after record:\n%s", out)
	}

	out = ok(t, cfg, "", "consent", "withdraw", "jonas.winter", "--comms")
	if !strings.Contains(out, "E-Mail und Chat sind geschlossen") || !strings.Contains(out, "Löschbericht für jonas.winter, Umfang: E-Mail und Chat") || !strings.Contains(out, "E-Mail") {
		t.Errorf("withdraw --comms:\n%s", out)
	}
	if out := ok(t, cfg, "", "consent", "show", "jonas.winter"); !strings.Contains(out, "E-Mail und Chat:\n  Status:         widerrufen") || !strings.Contains(out, "widerrufen:") {
		t.Errorf("after comms withdrawal:\n%s", out)
	}
	out = ok(t, cfg, "", "consent", "withdraw", "luca.herbst", "--platform")
	if !strings.Contains(out, "das Konto ist gesperrt") || !strings.Contains(out, "Löschbericht für luca.herbst, Umfang: vollständig") || !strings.Contains(out, "Benutzerkonto") {
		t.Errorf("withdraw --platform:\n%s", out)
	}
	fails(t, cfg, "", "unknown user", "consent", "show", "luca.herbst")

	// Leavers: Mia is not in the next file.
	next := filepath.Join(t.TempDir(), "next.csv")
	os.WriteFile(next, []byte("Vorname;Nachname;Klasse;Rolle\r\nJonas;Winter;10b;S\r\n"), 0o600)
	ok(t, cfg, "", "import", "users", next, "--sync")
	out = ok(t, cfg, "", "leavers", "list")
	if !strings.Contains(out, "mia.sommer") || !strings.Contains(out, "in 29 Tagen") && !strings.Contains(out, "in 30 Tagen") || !strings.Contains(out, "1 Abgänger") {
		t.Errorf("leavers list:\n%s", out)
	}
	srv.Stop()
	// Without a server the same commands open the store themselves.
	if out := ok(t, cfg, "", "leavers", "list", "--json"); !strings.Contains(out, `"account": "mia.sommer"`) {
		t.Errorf("local leavers list:\n%s", out)
	}
	if out := ok(t, cfg, "", "consent", "show", "mia.sommer", "--json"); !strings.Contains(out, `"given_by": "eltern"`) {
		t.Errorf("local consent show:\n%s", out)
	}
}
