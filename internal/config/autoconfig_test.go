package config

import (
	"strings"
	"testing"
)

func TestAutoconfigSection(t *testing.T) {
	c, err := Load(Overrides{ConfigFile: write(t, `
[autoconfig]
hostname = "Mail.Gymnasium-Musterstadt.de"
display_name = "Gymnasium Musterstadt"
imaps_port = 10993
`)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Autoconfig.Hostname != "mail.gymnasium-musterstadt.de" || c.Autoconfig.IMAPSPort != 10993 || c.Autoconfig.SubmissionPort != 0 {
		t.Fatalf("%+v", c.Autoconfig)
	}
	for _, bad := range []string{"[autoconfig]\nhostname = \"a b\"", "[autoconfig]\nsubmission_port = 70000", "[autoconfig]\nport = 1"} {
		if _, err := Load(Overrides{ConfigFile: write(t, bad)}); err == nil || !strings.Contains(err.Error(), "autoconfig") && !strings.Contains(err.Error(), "port") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
