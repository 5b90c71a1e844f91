package config

import "fmt"

// Privacy configures what happens to personal data over time.
type Privacy struct {
	// LeaverGraceDays: a pupil that `import --sync` found missing from
	// the file stays locked this many days (a mistake in the file can be
	// undone by the next import), then the server erases everything the
	// pupil stored, as after a withdrawal of the platform consent.
	LeaverGraceDays int `toml:"leaver_grace_days"`
}

func defaultPrivacy() Privacy { return Privacy{LeaverGraceDays: 60} }

func (p Privacy) validate() error {
	if p.LeaverGraceDays < 1 {
		return fmt.Errorf("config: privacy.leaver_grace_days must be at least 1")
	}
	return nil
}
