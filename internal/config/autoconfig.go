package config

import (
	"fmt"
	"strings"
)

// Autoconfig describes the mail service as clients outside see it, for
// Thunderbird autoconfig, Outlook autodiscover and Apple profiles. Behind a
// NAT or a port mapping the public host name and ports differ from
// [listen]; when they do not, nothing needs to be set.
type Autoconfig struct {
	// Hostname clients connect to for IMAP and SMTP (the name in the TLS
	// certificate). Empty: the mail domain itself.
	Hostname string `toml:"hostname"`
	// DisplayName is the account's name in the client. Empty: "Schulhof (<domain>)".
	DisplayName string `toml:"display_name"`
	// Public ports; 0 takes the port of the [listen] address. A disabled
	// listener is not offered.
	IMAPSPort       int `toml:"imaps_port"`
	SubmissionsPort int `toml:"submissions_port"`
	SubmissionPort  int `toml:"submission_port"`
}

func (a *Autoconfig) validate() error {
	a.Hostname = strings.ToLower(strings.TrimSpace(a.Hostname))
	if strings.ContainsAny(a.Hostname, " @/\\:") {
		return fmt.Errorf("config: autoconfig.hostname %q is not a host name", a.Hostname)
	}
	for name, p := range map[string]int{"imaps_port": a.IMAPSPort, "submissions_port": a.SubmissionsPort, "submission_port": a.SubmissionPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("config: autoconfig.%s %d is not a port", name, p)
		}
	}
	return nil
}
