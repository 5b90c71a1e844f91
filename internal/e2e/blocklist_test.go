package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBlocklistCLI drives `schulhof blocklist …` through the admin socket,
// then without a server (local mode), and checks the list survives.
func TestBlocklistCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	srv := Start(t, cfg)

	if out := ok(t, cfg, "", "blocklist", "add", "TikTok.com", "https://www.Example.org/x", "bücher.de"); !strings.Contains(out, "blocked 3") {
		t.Fatalf("add: %q", out)
	}
	fails(t, cfg, "", "would block the school's own domain", "blocklist", "add", "schule.test")
	fails(t, cfg, "", "not a domain name", "blocklist", "add", "exa<mple.com")

	file := filepath.Join(t.TempDir(), "sperrliste.txt")
	os.WriteFile(file, []byte("# Sperrliste\nads.example\n0.0.0.0 tracker.example\nnot a domain\n"), 0o600)
	fails(t, cfg, "", "line 4", "blocklist", "import", file)
	os.WriteFile(file, []byte("# Sperrliste\nads.example\n\n0.0.0.0 tracker.example   # hosts file\n"), 0o600)
	if out := ok(t, cfg, "", "blocklist", "import", file); !strings.Contains(out, "blocked 2") {
		t.Fatalf("import: %q", out)
	}
	ok(t, cfg, "", "blocklist", "remove", "Bücher.de")

	want := []string{"ads.example", "tiktok.com", "tracker.example", "www.example.org"}
	var got []string
	if err := json.Unmarshal([]byte(ok(t, cfg, "", "blocklist", "list", "--json")), &got); err != nil || !slices.Equal(got, want) {
		t.Fatalf("list: %q, %v", got, err)
	}
	srv.Stop()

	// Local mode, after the restart of the store.
	if out := ok(t, cfg, "", "blocklist", "list"); strings.Fields(out)[0] != "ads.example" || len(strings.Fields(out)) != 4 {
		t.Fatalf("list without server: %q", out)
	}
}
