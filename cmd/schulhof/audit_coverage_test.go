package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"schulhof/store"
)

const coveragePW = "Wiese#Blume2026"

// TestEveryCommandIsAudited runs every admin command the CLI has, in order,
// and checks that each one that changes something or reads content or
// logs leaves its audit record. A command missing from the table fails
// the test: a new verb must say what it records (or why it needs none).
func TestEveryCommandIsAudited(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "schueler.csv")
	os.WriteFile(csv, []byte("Vorname;Nachname;Klasse;Rolle\nJonas;Berg;7b;Schüler\n"), 0o600)
	block := filepath.Join(dir, "block.txt")
	os.WriteFile(block, []byte("boese.example\n"), 0o600)
	data := filepath.Join(dir, "data")
	auditor := func(name string) []string { return []string{"--as", name, "--password-stdin"} }

	type step struct {
		path   string
		args   []string
		stdin  string
		action string // the audit action it must add; "" with why set
		why    string // why it records nothing
	}
	steps := []step{
		{path: "user add", args: []string{"--first", "Max", "--last", "Müller", "--group", "5a"}, action: "user.add"},
		{path: "user add", args: []string{"--first", "Anna", "--last", "Prüf", "--role", "auditor", "--password-stdin"}, stdin: coveragePW, action: "user.add"},
		{path: "user add", args: []string{"--first", "Bert", "--last", "Prüf", "--role", "auditor", "--password-stdin"}, stdin: coveragePW, action: "user.add"},
		{path: "user passwd", args: []string{"anna.pruef", "--password-stdin"}, stdin: "Ander#Pass2026", action: "user.passwd.refused"},
		{path: "user passwd", args: []string{"max.mueller", "--password-stdin"}, stdin: coveragePW, action: "user.passwd"},
		{path: "user list", why: "lists accounts, no content"},
		{path: "user show", args: []string{"max.mueller"}, why: "account data the admin manages, no content"},
		{path: "user lock", args: []string{"max.mueller", "--reason", "Test"}, action: "user.lock"},
		{path: "user unlock", args: []string{"max.mueller"}, action: "user.unlock"},
		{path: "user reset-password", args: []string{"max.mueller"}, action: "user.reset-password"},
		{path: "user reset-password", args: []string{"bert.pruef"}, action: "user.reset-password.refused"},
		{path: "group add", args: []string{"Chor", "--kind", "other"}, action: "group.add"},
		{path: "group list", why: "lists groups, no content"},
		{path: "group member add", args: []string{"chor", "max.mueller"}, action: "group.member.add"},
		{path: "group member remove", args: []string{"chor", "max.mueller"}, action: "group.member.remove"},
		{path: "user add", args: []string{"--first", "Eva", "--last", "Lang", "--role", "teacher"}, action: "user.add"},
		{path: "group teacher add", args: []string{"chor", "eva.lang"}, action: "group.teacher.add"},
		{path: "group teacher remove", args: []string{"chor", "eva.lang"}, action: "group.teacher.remove"},
		{path: "forum create", args: []string{"schulhof", "--title", "Schulhof für alle"}, action: "forum.create"},
		{path: "forum list", why: "lists forums and moderators, no posts"},
		{path: "forum moderator add", args: []string{"5a", "max.mueller"}, action: "forum.moderator.add"},
		{path: "forum moderator list", args: []string{"5a"}, why: "lists moderators, no posts"},
		{path: "forum moderator remove", args: []string{"5a", "max.mueller"}, action: "forum.moderator.remove"},
		{path: "exception add", args: []string{"max.mueller", "--bytes", "100MB", "--until", "2099-12-31", "--reason", "Film-AG"}, action: "exception.add"},
		{path: "exception list", why: "lists exceptions, no content"},
		{path: "blocklist add", args: []string{"schlecht.example"}, action: "blocklist.add"},
		{path: "blocklist import", args: []string{block}, action: "blocklist.import"},
		{path: "blocklist remove", args: []string{"schlecht.example"}, action: "blocklist.remove"},
		{path: "blocklist list", why: "lists domains, no personal data"},
		{path: "calendar show", args: []string{"chor"}, why: "a calendar's settings and counts, no entries"},
		{path: "calendar feed-revoke", args: []string{"chor"}, action: "calendar.feed.revoke"},
		{path: "import users", args: []string{csv, "--passwords", filepath.Join(dir, "pw.csv")}, action: "import.users"},
		{path: "log logins", args: auditor("anna.pruef"), stdin: coveragePW, action: "log.read"},
		{path: "report list", why: "lists reports without content"},
		{path: "report show", args: []string{"1"}, action: "report.read"},
		{path: "report close", args: []string{"1", "--note", "erledigt"}, action: "report.close"},
		{path: "inspect request", args: append(auditor("anna.pruef"), "--person", "max.mueller", "--scope", "chat", "--reason", "Verdacht", "--case", "AZ-1"), stdin: coveragePW, action: "inspect.request"},
		{path: "inspect approve", args: append(auditor("bert.pruef"), "1"), stdin: coveragePW, action: "inspect.notice"},
		{path: "inspect list", args: auditor("bert.pruef"), stdin: coveragePW, action: "inspect.list"},
		{path: "inspect show", args: append(auditor("anna.pruef"), "1"), stdin: coveragePW, action: "inspect.view"},
		{path: "inspect close", args: append(auditor("bert.pruef"), "1"), stdin: coveragePW, action: "inspect.close"},
		{path: "user export", args: []string{"max.mueller", "--to", filepath.Join(dir, "max.zip")}, action: "user.export"},
		{path: "audit list", why: "reads the audit log itself"},
		{path: "audit verify", why: "checks the audit log itself"},
		{path: "consent show", args: []string{"max.mueller"}, why: "consent records the admin manages, no content"},
		{path: "consent record", args: []string{"max.mueller", "--comms", "--by", "beide", "--date", "2026-09-01", "--form", "2026-08"}, action: "consent.record"},
		{path: "consent withdraw", args: []string{"max.mueller", "--comms"}, action: "privacy.erase"},
		{path: "leavers list", why: "lists locked pupils and the day of their erasure, no content"},
		{path: "bench fill", args: []string{"--accounts", "max.mueller", "--messages", "3"}, action: "bench.fill"},
		{path: "user delete", args: []string{"jonas.berg"}, action: "privacy.erase"},
	}
	covered := map[string]bool{}
	for _, s := range steps {
		covered[s.path] = true
	}
	for _, c := range commands {
		if c.client != nil {
			continue // runs in the CLI process without the store (bench)
		}
		if !covered[c.path] {
			t.Errorf("command %q is not in this table: say which audit record it leaves", c.path)
		}
	}

	for _, s := range steps {
		if s.path == "report show" { // a report to read: filed by a pupil
			st, err := store.Open(data, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			st.PostMessage(store.GroupRoomID("5a"), "max.mueller", "hallo", time.Now(), nil)
			if _, err := st.CreateReport(store.GroupRoomID("5a"), 1, "max.mueller", "Test", 2, time.Now(), nil); err != nil {
				t.Fatal(err)
			}
			st.Close()
		}
		if s.path == "log logins" { // the auditors change their one-time passwords themselves (/passwort)
			st, err := store.Open(data, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"anna.pruef", "bert.pruef"} {
				st.UpdateAccount(n, func(a *store.Account) error { a.MustChange = false; return nil })
			}
			st.Close()
		}
		before := auditCount(t, data)
		var out, errb bytes.Buffer
		args := append([]string{"--data", data, "--domain", "schule.test"}, strings.Fields(s.path)...)
		code := run(append(args, s.args...), strings.NewReader(s.stdin+"\n"), &out, &errb)
		if s.why != "" {
			if n := auditCount(t, data); n != before {
				t.Errorf("%s added %d audit records but is listed as recording none (%s)", s.path, n-before, s.why)
			}
			continue
		}
		if code != 0 && !strings.HasSuffix(s.action, ".refused") {
			t.Fatalf("schulhof %s: exit %d: %s%s", s.path, code, out.String(), errb.String())
		}
		if got := auditActions(t, data)[before:]; !contains(got, s.action) {
			t.Errorf("schulhof %s left %v, want %s", s.path, got, s.action)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func auditActions(t *testing.T, data string) []string {
	t.Helper()
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.AuditLog(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Action)
	}
	return out
}

func auditCount(t *testing.T, data string) int { return len(auditActions(t, data)) }
