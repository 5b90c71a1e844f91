package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCalDAVClientTLS runs Python's caldav library (python3-caldav)
// against the real server's HTTPS listener: Basic login over TLS,
// discovery from the server root, create, edit, a date range, delete.
func TestCalDAVClientTLS(t *testing.T) {
	var py string
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import caldav").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3-caldav is required in CI")
		}
		t.Skip("python3-caldav not installed")
	}
	_, cfg, base := startHTTPSOnly(t, "caldav.toml", "")
	ok(t, cfg, "", "user", "add", "--first", "Eva", "--last", "Lang", "--role", "teacher", "--group", "5a")
	const pw = "Sonne!Blume2026"
	ok(t, cfg, pw+"\n", "user", "passwd", "eva.lang", "--password-stdin")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	script, _ := filepath.Abs(filepath.Join("..", "..", "web", "testdata", "caldav_client.py"))
	cmd := exec.CommandContext(ctx, py, script, base, "eva.lang", pw, "Gruppe 5a", "insecure")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("caldav client over TLS: %v\n%s", err, stderr.String())
	}
	var got struct {
		Principal   string   `json:"principal"`
		December    []string `json:"december"`
		AfterDelete []string `json:"after_delete"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if !strings.HasPrefix(got.Principal, "https://") || !strings.HasSuffix(got.Principal, "/caldav/eva.lang/") ||
		fmt.Sprint(got.December) != "[Elternabend (Raum 12)]" || fmt.Sprint(got.AfterDelete) != "[Elternabend (Raum 12)]" {
		t.Errorf("client saw %+v", got)
	}
	// The admin's view of the calendar: two entries created, one edited,
	// one deleted: one entry left after four changes.
	res := ok(t, cfg, "", "calendar", "show", "5a")
	if !strings.Contains(res, "Termine:              1") || !strings.Contains(res, "Änderungen:           4") {
		t.Errorf("calendar show: %s", res)
	}
}
