package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// ok runs a CLI command that must succeed and returns its output.
func ok(t *testing.T, cfg, stdin string, args ...string) string {
	t.Helper()
	r := CLI(t, cfg, stdin, args...)
	if r.Code != 0 {
		t.Fatalf("schulhof %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// fails runs a command that must fail with a one-line error containing want.
func fails(t *testing.T, cfg, stdin, want string, args ...string) {
	t.Helper()
	r := CLI(t, cfg, stdin, args...)
	if r.Code == 0 {
		t.Fatalf("schulhof %s succeeded, want failure %q\n%s", strings.Join(args, " "), want, r.Stdout)
	}
	msg := strings.TrimSpace(r.Stderr)
	if !strings.Contains(msg, want) {
		t.Fatalf("schulhof %s: stderr %q, want it to contain %q", strings.Join(args, " "), msg, want)
	}
	if strings.Count(msg, "\n") > 0 && !strings.Contains(msg, "import refused") {
		t.Errorf("schulhof %s: error is not one line: %q", strings.Join(args, " "), msg)
	}
}

func TestCLIThroughSocketAndRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	srv := Start(t, cfg)
	if srv.AdminName != "admin.schulhof" || srv.AdminPassword == "" {
		t.Fatalf("first start did not print the admin's one-time password:\n%s", srv.Output())
	}
	if fi, err := os.Stat(filepath.Join(dir, "admin.sock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tls", "cert.pem")); err != nil {
		t.Fatal("no self-signed certificate generated")
	}

	// user add: derived name, address, one-time password
	out := ok(t, cfg, "", "user", "add", "--first", "Max", "--last", "Müller", "--role", "student", "--group", "5a")
	f := strings.Fields(out)
	if len(f) < 3 || f[0] != "max.mueller" || f[1] != "max.mueller@schule.test" {
		t.Fatalf("user add printed %q", out)
	}
	out = ok(t, cfg, "", "user", "add", "--first", "Max", "--last", "Müller", "--group", "5a", "--json")
	var created struct {
		Account  struct{ Name string }
		Password string
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Account.Name != "max.mueller2" || created.Password == "" || strings.Contains(out, "argon2") {
		t.Fatalf("second Max Müller: %s (%v)", out, err)
	}
	ok(t, cfg, "Unterricht#2026\n", "user", "add", "--first", "Eva", "--last", "Lang", "--role", "teacher", "--password-stdin")
	ok(t, cfg, "", "group", "add", "Mathe LK", "--kind", "course")
	ok(t, cfg, "", "group", "member", "add", "mathe-lk", "max.mueller", "max.mueller2")
	ok(t, cfg, "", "group", "member", "remove", "mathe-lk", "max.mueller2")
	ok(t, cfg, "", "group", "teacher", "add", "mathe-lk", "eva.lang")
	ok(t, cfg, "", "group", "teacher", "add", "5a", "eva.lang")
	ok(t, cfg, "", "group", "teacher", "remove", "5a", "eva.lang")
	if out := ok(t, cfg, "", "group", "list"); !strings.Contains(out, "mathe-lk") || !strings.Contains(out, "eva.lang") {
		t.Fatalf("group list:\n%s", out)
	}
	if out := ok(t, cfg, "", "user", "list", "--group", "mathe-lk"); !strings.Contains(out, "max.mueller ") || strings.Contains(out, "max.mueller2") {
		t.Fatalf("user list --group:\n%s", out)
	}
	if out := ok(t, cfg, "", "user", "list", "--role", "teacher", "--json"); !strings.Contains(out, `"eva.lang"`) || strings.Contains(out, "argon2") {
		t.Fatalf("user list --role --json:\n%s", out)
	}
	ok(t, cfg, "", "user", "lock", "max.mueller2", "--reason", "Verstoß gegen die Nutzungsordnung")
	if out := ok(t, cfg, "", "user", "show", "max.mueller2"); !strings.Contains(out, "Verstoß") || strings.Contains(out, "argon2") {
		t.Fatalf("user show:\n%s", out)
	}
	ok(t, cfg, "", "user", "unlock", "max.mueller2")
	if out := ok(t, cfg, "", "user", "reset-password", "max.mueller"); len(strings.Fields(out)) != 2 {
		t.Fatalf("reset-password printed %q", out)
	}
	ok(t, cfg, "Blume#Wiese77\n", "user", "passwd", "max.mueller", "--password-stdin")
	ok(t, cfg, "", "exception", "add", "max.mueller", "--bytes", "100MB", "--until", "2099-12-31", "--reason", "Film-AG")
	if out := ok(t, cfg, "", "exception", "list"); !strings.Contains(out, "max.mueller") || !strings.Contains(out, "100 MiB") {
		t.Fatalf("exception list:\n%s", out)
	}
	// The login log is for auditors only (AUDIT-INSPECT); the admin at the
	// socket is none, and one person's log needs an inspection.
	fails(t, cfg, "", "AUDIT-INSPECT", "log", "logins", "--since", "1h", "--json")
	fails(t, cfg, "", "AUDIT-INSPECT", "log", "logins", "--user", "max.mueller", "--since", "7d")

	// import: Windows-1252 as German Excel writes it, CRLF
	csv, _ := charmap.Windows1252.NewEncoder().String("Vorname;Nachname;Klasse;Rolle\r\nJürgen;Groß;7b;Schüler\r\nZoë;Schäfer;7b;Schülerin\r\n")
	csvPath := filepath.Join(t.TempDir(), "schueler.csv")
	os.WriteFile(csvPath, []byte(csv), 0o600)
	if out := ok(t, cfg, "", "import", "users", csvPath, "--dry-run"); !strings.Contains(out, "would create 2 accounts") {
		t.Fatalf("dry run:\n%s", out)
	}
	if _, err := os.Stat(strings.TrimSuffix(csvPath, ".csv") + "-passwoerter.csv"); err == nil {
		t.Fatal("dry run wrote passwords")
	}
	out = ok(t, cfg, "", "import", "users", csvPath)
	letters, err := os.ReadFile(strings.TrimSuffix(csvPath, ".csv") + "-passwoerter.csv")
	if err != nil || !strings.Contains(string(letters), "juergen.gross@schule.test") || !strings.Contains(string(letters), "zoe.schaefer") {
		t.Fatalf("password letters: %v\n%s\n%s", err, letters, out)
	}
	if out := ok(t, cfg, "", "import", "users", csvPath, "--sync", "--dry-run"); !strings.Contains(out, "0 unchanged") && !strings.Contains(out, "2 unchanged") {
		t.Fatalf("re-import:\n%s", out)
	} else if !strings.Contains(out, "lock 3 accounts") {
		t.Fatalf("--sync dry run should name the 3 students and teachers missing from the file:\n%s", out)
	}
	ok(t, cfg, "", "user", "delete", "max.mueller2")

	// Bad input: one line naming what is wrong, exit code ≠ 0.
	fails(t, cfg, "schwach\n", "[PW-STRENGTH]", "user", "passwd", "max.mueller", "--password-stdin")
	fails(t, cfg, "", "unknown user \"no.body\"", "user", "lock", "no.body", "--reason", "x")
	fails(t, cfg, "", "unknown user \"no.body\"", "user", "show", "no.body")
	fails(t, cfg, "", "exists already", "group", "add", "mathe-lk", "--kind", "course")
	fails(t, cfg, "", "--first and --last", "user", "add", "--first", "Max")
	fails(t, cfg, "", "unknown command", "user", "frobnicate")
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("Vorname;Nachname;Klasse;Rolle\nMax;;5a;S\nEva;Lang;5a;Hausmeister\n"), 0o600)
	r := CLI(t, cfg, "", "import", "users", bad)
	if r.Code == 0 || !strings.Contains(r.Stderr, "line 2:") || !strings.Contains(r.Stderr, "line 3:") {
		t.Fatalf("malformed CSV: %+v", r)
	}
	if out := ok(t, cfg, "", "user", "add", "--help"); !strings.Contains(out, "--password-stdin") {
		t.Fatalf("--help:\n%s", out)
	}

	srv.Stop()
	if _, err := os.Stat(filepath.Join(dir, "admin.sock")); !os.IsNotExist(err) {
		t.Fatal("admin socket left after shutdown")
	}

	// Without a server the CLI opens the store itself.
	if out := ok(t, cfg, "", "user", "show", "juergen.gross"); !strings.Contains(out, "7b") {
		t.Fatalf("local mode:\n%s", out)
	}

	// Restart: everything is still there; no second first admin.
	srv = Start(t, cfg)
	if srv.AdminPassword != "" {
		t.Fatal("restart created another first admin")
	}
	out = ok(t, cfg, "", "user", "list")
	for _, name := range []string{"admin.schulhof", "max.mueller ", "eva.lang", "juergen.gross", "zoe.schaefer"} {
		if !strings.Contains(out, name) {
			t.Errorf("after restart %s is missing:\n%s", name, out)
		}
	}
	if strings.Contains(out, "max.mueller2") {
		t.Error("deleted account is back")
	}
	out = ok(t, cfg, "", "user", "add", "--first", "Max", "--last", "Müller")
	if !strings.HasPrefix(out, "max.mueller3 ") {
		t.Fatalf("a deleted name was given again: %s", out)
	}
	srv.Stop()
}

func TestUnknownConfigKey(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(cfg, []byte("domain = \"schule.test\"\n[listen]\nimapz = \":143\"\n"), 0o600)
	r := CLI(t, cfg, "", "serve")
	if r.Code == 0 || !strings.Contains(r.Stderr, "unknown key listen.imapz") || strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
		t.Fatalf("%+v", r)
	}
}
