package config

import (
	"fmt"

	"schulhof/internal/metrics"
)

// Metrics configures the Prometheus listener (/metrics, /healthz,
// /readyz). It is separate from the user-facing listeners and loopback
// only unless AllowRemote says otherwise: the numbers say who is busy
// when, which is no one's business outside the machine.
type Metrics struct {
	// Listen is the address; "" disables the listener.
	Listen string `toml:"listen"`
	// AllowRemote permits an address that is not loopback (a scraper on
	// another machine; put a firewall in front).
	AllowRemote bool `toml:"allow_remote"`
}

// Log configures the server log (stderr).
type Log struct {
	// Format is "text" (default) or "json"; `serve --log-format` wins.
	Format string `toml:"format"`
}

func defaultMetrics() Metrics { return Metrics{Listen: "127.0.0.1:9327"} }

func (c *Config) validateObservability() error {
	if a := c.Metrics.Listen; a != "" && !c.Metrics.AllowRemote && !metrics.IsLoopback(a) {
		return fmt.Errorf("config: metrics.listen %q is not a loopback address (127.0.0.1, ::1, localhost); set metrics.allow_remote = true to serve it to other machines", a)
	}
	if err := ValidLogFormat(c.Log.Format); err != nil {
		return fmt.Errorf("config: log.format: %w", err)
	}
	return nil
}

// ValidLogFormat accepts "", "text" and "json".
func ValidLogFormat(f string) error {
	switch f {
	case "", "text", "json":
		return nil
	}
	return fmt.Errorf("%q: use \"text\" or \"json\"", f)
}
