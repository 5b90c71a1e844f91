package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"schulhof/store"
)

// TestAuditAndInspectCLI drives `schulhof inspect` and `schulhof audit`
// through the running server's admin socket: the OS user is no auditor,
// one auditor cannot approve alone, a wrong password is refused; then the
// audit list filters, verify passes, and a copy of the database file with
// one byte sequence changed fails verify naming the entry.
// selfPassword changes a password at /passwort as its owner would.
func selfPassword(t *testing.T, base, name, old, new string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest("POST", base+"/passwort", strings.NewReader(url.Values{"account": {name}, "current": {old}, "new": {new}, "repeat": {new}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("password change of %s: %v %v", name, err, resp)
	}
	resp.Body.Close()
}

func TestAuditAndInspectCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	srv := Start(t, cfg)

	ok(t, cfg, "", "user", "add", "--first", "Max", "--last", "Müller")
	base := "https://" + srv.Addrs["https"]
	for _, n := range []string{"Anna", "Bert"} {
		name := strings.ToLower(n) + ".pruef"
		out := ok(t, cfg, "", "user", "add", "--first", n, "--last", "Prüf", "--role", "auditor")
		// The admin may not set an auditor's password; the auditor changes
		// the one-time password herself.
		fails(t, cfg, pw+"\n", "AUDIT-INSPECT", "user", "passwd", name, "--password-stdin")
		fails(t, cfg, "", "AUDIT-INSPECT", "user", "reset-password", name)
		selfPassword(t, base, name, strings.Fields(out)[2], pw)
	}
	req := []string{"inspect", "request", "--person", "max.mueller", "--scope", "mail", "--reason", "Verdacht", "--case", "AZ-9"}
	fails(t, cfg, "", "AUDIT-INSPECT", req...)
	ok(t, cfg, pw+"\n", "user", "passwd", srv.AdminName, "--password-stdin")
	fails(t, cfg, pw+"\n", "AUDIT-INSPECT", append(req, "--as", srv.AdminName, "--password-stdin")...) // an admin account is no auditor
	fails(t, cfg, "Falsch#123\n", "AUTH-FAILED", append(req, "--as", "anna.pruef", "--password-stdin")...)
	out := ok(t, cfg, pw+"\n", append(req, "--as", "anna.pruef", "--password-stdin")...)
	m := regexp.MustCompile(`Antrag (\d+):`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("request printed %q", out)
	}
	id := m[1]
	fails(t, cfg, pw+"\n", "AUDIT-INSPECT", "inspect", "approve", id, "--as", "anna.pruef", "--password-stdin")
	fails(t, cfg, "", "AUDIT-INSPECT", "inspect", "approve", id)
	fails(t, cfg, pw+"\n", "AUDIT-INSPECT", "inspect", "show", id, "--as", "anna.pruef", "--password-stdin")
	fails(t, cfg, "", "AUDIT-INSPECT", "inspect", "list")
	if out := ok(t, cfg, pw+"\n", "inspect", "approve", id, "--as", "bert.pruef", "--password-stdin"); !strings.Contains(out, "max.mueller wurde per E-Mail benachrichtigt") {
		t.Fatalf("approve printed %q", out)
	}
	if out := ok(t, cfg, pw+"\n", "inspect", "show", id, "--as", "anna.pruef", "--password-stdin"); !strings.Contains(out, "Betreff: Hinweis: Einsicht in Ihre Daten (Aktenzeichen AZ-9)") {
		t.Fatalf("show:\n%s", out)
	}
	if out := ok(t, cfg, pw+"\n", "inspect", "list", "--as", "bert.pruef", "--password-stdin"); !strings.Contains(out, "genehmigt von bert.pruef") {
		t.Fatalf("list:\n%s", out)
	}
	ok(t, cfg, "", "user", "lock", "max.mueller", "--reason", "Verstoss-XYZ-123")

	var recs []store.AuditRecord
	if err := json.Unmarshal([]byte(ok(t, cfg, "", "audit", "list", "--action", "inspect.", "--json")), &recs); err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, r := range recs {
		if !strings.HasPrefix(r.Action, "inspect.") {
			t.Errorf("--action inspect. listed %s", r.Action)
		}
		actions[r.Action] = true
	}
	for _, a := range []string{"inspect.request", "inspect.request.refused", "inspect.approve", "inspect.approve.refused", "inspect.notice", "inspect.view", "inspect.view.refused", "inspect.list.refused"} {
		if !actions[a] {
			t.Errorf("no %s in %v", a, actions)
		}
	}
	var lock store.AuditRecord
	json.Unmarshal([]byte(ok(t, cfg, "", "audit", "list", "--person", "max.mueller", "--action", "user.lock", "--json")), &recs)
	if len(recs) != 1 || recs[0].Detail != "Verstoss-XYZ-123" {
		t.Fatalf("--person --action: %+v", recs)
	}
	lock = recs[0]
	json.Unmarshal([]byte(ok(t, cfg, "", "audit", "list", "--actor", "bert.pruef", "--json")), &recs)
	for _, r := range recs {
		if r.Actor != "bert.pruef" {
			t.Errorf("--actor bert.pruef listed %+v", r)
		}
	}
	if len(recs) < 2 {
		t.Errorf("--actor bert.pruef: %d records", len(recs))
	}
	if out := ok(t, cfg, "", "audit", "list", "--since", "2099-01-01"); !strings.Contains(out, "0 Einträge") {
		t.Errorf("--since in the future:\n%s", out)
	}
	if out := ok(t, cfg, "", "audit", "list", "--until", "2000-01-01"); !strings.Contains(out, "0 Einträge") {
		t.Errorf("--until in the past:\n%s", out)
	}
	fails(t, cfg, "", "--since", "audit", "list", "--since", "gestern")

	out = ok(t, cfg, "", "audit", "verify")
	h := regexp.MustCompile(`Audit-Protokoll in Ordnung: (\d+) Einträge[\s\S]*--anchor\): (\d+:[0-9a-f]{64})`).FindStringSubmatch(out)
	if h == nil {
		t.Fatalf("verify printed:\n%s", out)
	}
	ok(t, cfg, "", "audit", "verify", "--anchor", h[2])
	fails(t, cfg, "", "Audit-Protokoll verändert", "audit", "verify", "--anchor", h[1]+":"+strings.Repeat("ab", 32))
	srv.Stop()

	// Someone edits the lock reason in a copy of the database file.
	raw, err := os.ReadFile(filepath.Join(dir, "schulhof.db"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("Verstoss-XYZ-123")) {
		t.Fatal("lock reason not found in the file")
	}
	cp := filepath.Join(t.TempDir(), "copy")
	os.MkdirAll(cp, 0o700)
	os.WriteFile(filepath.Join(cp, "schulhof.db"), bytes.ReplaceAll(raw, []byte("Verstoss-XYZ-123"), []byte("Verstoss-XYZ-999")), 0o600)
	r := CLI(t, cfg, "", "--data", cp, "audit", "verify")
	want := "Erster fehlerhafter Eintrag: Stelle " + strconv.FormatUint(lock.Seq, 10) + ", Nr. " + strconv.FormatUint(lock.Seq, 10)
	if r.Code == 0 || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stdout, "user.lock") || !strings.Contains(r.Stdout, "Detail wurde verändert") {
		t.Fatalf("verify of the edited copy: exit %d\n%s%s\nwant %q", r.Code, r.Stdout, r.Stderr, want)
	}
	// The original still verifies.
	ok(t, cfg, "", "audit", "verify")
}
