package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBackupConfig(t *testing.T) {
	load := func(body string) (*Config, error) {
		p := filepath.Join(t.TempDir(), "c.toml")
		if err := os.WriteFile(p, []byte("data_dir = \"/srv/schulhof\"\n"+body), 0o600); err != nil {
			t.Fatal(err)
		}
		return Load(Overrides{ConfigFile: p})
	}
	c, err := load("")
	if err != nil || c.Backup.Dir != "" || c.Backup.KeepDays != 14 || c.Backup.Time != "02:30" {
		t.Fatalf("defaults: %+v %v", c.Backup, err)
	}
	c, err = load("[backup]\ndir = \"/mnt/sicherung\"\ntime = \"23:05\"\nkeep_days = 7\n")
	if err != nil {
		t.Fatal(err)
	}
	if h, m := c.Backup.At(); h != 23 || m != 5 || c.Backup.Keep() != 7*24*time.Hour || c.Backup.Dir != "/mnt/sicherung" {
		t.Fatalf("parsed: %+v", c.Backup)
	}
	for body, want := range map[string]string{
		"[backup]\ntime = \"2:30 am\"\n":          "backup.time",
		"[backup]\nkeep_days = 0\n":               "keep_days",
		"[backup]\ndir = \"/srv/schulhof/bak\"\n": "inside the data directory",
		"[backup]\ndir = \"/srv/schulhof\"\n":     "inside the data directory",
		"[backup]\nkeep = 3\n":                    "unknown key",
	} {
		if _, err := load(body); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
	raw, _ := os.ReadFile(filepath.Join("..", "..", "packaging", "schulhof.toml"))
	for _, key := range []string{"[backup]", "\ndir = ", "\ntime = ", "\nkeep_days = "} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("packaging/schulhof.toml does not document %q", key)
		}
	}
}
