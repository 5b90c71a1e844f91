package e2e

import (
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"schulhof/store"
)

// TestReportCLI: `schulhof report list|show|close` in local mode. The list
// carries no chat content; show does, and leaves an audit record naming
// the OS user.
func TestReportCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	room := store.GroupRoomID("5a")
	for _, txt := range []string{"vorher", "die gemeldete Nachricht", "nachher"} {
		if _, err := st.PostMessage(room, "max.mueller", txt, time.Now(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateReport(room, 2, "zoe.gross", "beleidigend", 5, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := ok(t, cfg, "", "report", "list")
	if !strings.Contains(out, "zoe.gross") || !strings.Contains(out, "max.mueller") || strings.Contains(out, "gemeldete") || strings.Contains(out, "beleidigend") {
		t.Fatalf("report list shows content or misses the report:\n%s", out)
	}
	out = ok(t, cfg, "", "report", "show", "1")
	if !strings.Contains(out, "> #2") || !strings.Contains(out, "die gemeldete Nachricht") || !strings.Contains(out, "beleidigend") || !strings.Contains(out, "vorher") {
		t.Fatalf("report show:\n%s", out)
	}
	fails(t, cfg, "", "unknown report", "report", "show", "7")
	fails(t, cfg, "", "report number", "report", "show", "x")
	ok(t, cfg, "", "report", "close", "1", "--note", "erledigt")
	if out := ok(t, cfg, "", "report", "list"); !strings.Contains(out, "0 report(s)") {
		t.Fatalf("closed report still listed:\n%s", out)
	}
	if out := ok(t, cfg, "", "report", "list", "--all"); !strings.Contains(out, "closed by") {
		t.Fatalf("--all:\n%s", out)
	}

	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, _ := st.AuditLog(time.Time{})
	var reads int
	u, _ := user.Current()
	for _, r := range recs {
		if r.Action == "report.read" {
			reads++
			if !strings.Contains(r.Actor, u.Username) {
				t.Errorf("audit actor %q", r.Actor)
			}
		}
	}
	if reads != 1 {
		t.Fatalf("report reads audited: %d (%+v)", reads, recs)
	}
}
