package main

import (
	"net"
	"strconv"

	"schulhof/internal/config"
	"schulhof/web"
)

// autoconfigOptions tells mail clients where the configured listeners are
// ([autoconfig] overrides what outside clients see). Mount the handler on
// the HTTPS listener for requests where web.AutoconfigMatch(r) is true.
func autoconfigOptions(cfg *config.Config) web.AutoconfigOptions {
	a := cfg.Autoconfig
	return web.AutoconfigOptions{
		Domain:          cfg.Domain,
		Hostname:        a.Hostname,
		DisplayName:     a.DisplayName,
		IMAPPort:        publicPort(a.IMAPSPort, cfg.Listen.IMAPS),
		SubmissionsPort: publicPort(a.SubmissionsPort, cfg.Listen.Submissions),
		SubmissionPort:  publicPort(a.SubmissionPort, cfg.Listen.Submission),
	}
}

// publicPort is the configured public port, else the listener's port; -1
// (not offered) for a disabled listener.
func publicPort(public int, listen string) int {
	if listen == "" {
		return -1
	}
	if public > 0 {
		return public
	}
	_, p, err := net.SplitHostPort(listen)
	if n, perr := strconv.Atoi(p); err == nil && perr == nil && n > 0 {
		return n
	}
	return 0 // the standard port
}
