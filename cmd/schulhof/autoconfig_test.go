package main

import (
	"testing"

	"schulhof/internal/config"
)

func TestAutoconfigOptions(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = config.Listen{Submission: ":2587", Submissions: "", IMAPS: "0.0.0.0:993"}
	cfg.Autoconfig.Hostname = "mail.schule.test"
	cfg.Autoconfig.IMAPSPort = 10993
	o := autoconfigOptions(cfg)
	if o.Hostname != "mail.schule.test" || o.IMAPPort != 10993 || o.SubmissionPort != 2587 || o.SubmissionsPort != -1 {
		t.Fatalf("%+v", o)
	}
}
