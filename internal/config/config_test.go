package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "schulhof.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := Load(Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != "schule.test" || !filepath.IsAbs(c.DataDir) || c.Auth.LoginLogRetentionDays != 30 || c.Policy.MaxTransferBytes != 20971520 {
		t.Fatalf("%+v", c)
	}
	if c.Listen.HTTPS == "" || c.Listen.IMAPS == "" {
		t.Fatal("listeners disabled by default")
	}
}

func TestFileAndOverrides(t *testing.T) {
	p := write(t, `
domain = "gymnasium-musterstadt.de"
data_dir = "/var/lib/schulhof"
[listen]
submission = ""
imaps = "127.0.0.1:1993"
[auth]
login_log_retention_days = 7
`)
	c, err := Load(Overrides{ConfigFile: p, Domain: "Other.Example"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != "other.example" || c.DataDir != "/var/lib/schulhof" || c.Listen.Submission != "" || c.Listen.IMAPS != "127.0.0.1:1993" || c.Auth.LoginLogRetentionDays != 7 {
		t.Fatalf("%+v", c)
	}
	c, _ = Load(Overrides{ConfigFile: p, DataDir: "/tmp/x"})
	if c.DataDir != "/tmp/x" {
		t.Fatal(c.DataDir)
	}
}

func TestUnknownKeysNamed(t *testing.T) {
	for text, key := range map[string]string{
		`domian = "x.de"`:                              "domian",
		"[listen]\nimapz = \":1\"":                     "listen.imapz",
		"[tls]\ncert = \"a\"\nkey = \"b\"\nca = \"c\"": "tls.ca",
		"[nosuch]\nx = 1":                              "nosuch",
	} {
		_, err := Load(Overrides{ConfigFile: write(t, text)})
		if err == nil || !strings.Contains(err.Error(), "unknown key") || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: %v (want the key %s named)", text, err, key)
		}
	}
}

func TestInvalidValues(t *testing.T) {
	for _, text := range []string{
		`domain = "not a domain"`,
		`domain = 5`,
		`language = "fr"`,
		"[tls]\ncert = \"only-cert.pem\"",
		"[auth]\nlogin_log_retention_days = 0",
		"[policy]\nmax_transfer_bytes = -1",
		`this is not toml`,
	} {
		if _, err := Load(Overrides{ConfigFile: write(t, text)}); err == nil {
			t.Errorf("%q accepted", text)
		}
	}
	if _, err := Load(Overrides{ConfigFile: "/nonexistent/schulhof.toml"}); err == nil {
		t.Error("missing config file accepted")
	}
}

// The documented example must load and contain every key.
func TestPackagingExampleIsComplete(t *testing.T) {
	p := filepath.Join("..", "..", "packaging", "schulhof.toml")
	c, err := Load(Overrides{ConfigFile: p})
	if err != nil {
		t.Fatal(err)
	}
	_ = c
	raw, _ := os.ReadFile(p)
	for _, key := range []string{"domain", "data_dir", "language", "submission", "submissions", "imap", "imaps", "https",
		"cert", "key", "login_log_retention_days", "failures_per_account_per_minute", "failures_per_ip_per_minute",
		"cache_seconds", "max_transfer_bytes", "default_consent_comms", "allow_remote", "format"} {
		if !strings.Contains(string(raw), "\n"+key+" ") && !strings.Contains(string(raw), "\n"+key+"=") {
			t.Errorf("packaging/schulhof.toml does not document %s", key)
		}
	}
}

func TestMailLimitsConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "schulhof.toml")
	os.WriteFile(p, []byte("[limits.student]\nrecipients_per_message = 0\nmessages_per_hour = 5\ngroup_addresses = \"none\"\n"), 0o600)
	c, err := Load(Overrides{ConfigFile: p})
	if err != nil {
		t.Fatal(err)
	}
	l := c.Limits.MailLimits()
	if s := l["student"]; s.RecipientsPerMessage != 0 || s.MessagesPerHour != 5 || s.GroupAddresses != "none" {
		t.Fatalf("%+v", s)
	}
	if l["teacher"].RecipientsPerMessage != 300 || l["teacher"].MessagesPerHour != 600 {
		t.Fatalf("teacher defaults lost: %+v", l["teacher"])
	}
	os.WriteFile(p, []byte("[limits.student]\ngroup_addresses = \"everyone\"\n"), 0o600)
	if _, err := Load(Overrides{ConfigFile: p}); err == nil {
		t.Fatal("bad group_addresses accepted")
	}
}
