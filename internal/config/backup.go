package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Backup configures the scheduled backups `serve` takes ([backup]).
type Backup struct {
	// Dir is the backup directory; "" switches scheduled backups off.
	// It must lie outside the data directory.
	Dir string `toml:"dir"`
	// Time is the local time of day of the nightly backup, "HH:MM".
	Time string `toml:"time"`
	// KeepDays: backups older than this are deleted after each scheduled
	// run, so erased data leaves the backups within this many days.
	KeepDays int `toml:"keep_days"`
}

func defaultBackup() Backup { return Backup{Time: "02:30", KeepDays: 14} }

// At returns the hour and minute of Time.
func (b Backup) At() (hour, minute int) {
	t, _ := time.Parse("15:04", b.Time) // checked by validate
	return t.Hour(), t.Minute()
}

// Keep is KeepDays as a duration.
func (b Backup) Keep() time.Duration { return time.Duration(b.KeepDays) * 24 * time.Hour }

func (c *Config) validateBackup() error {
	b := &c.Backup
	if _, err := time.Parse("15:04", b.Time); err != nil {
		return fmt.Errorf("config: backup.time %q: use HH:MM, e.g. \"02:30\"", b.Time)
	}
	if b.KeepDays < 1 {
		return fmt.Errorf("config: backup.keep_days must be at least 1")
	}
	if b.Dir == "" {
		return nil
	}
	abs, err := filepath.Abs(b.Dir)
	if err != nil {
		return err
	}
	b.Dir = abs
	if rel, err := filepath.Rel(c.DataDir, abs); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
		return fmt.Errorf("config: backup.dir %s lies inside the data directory %s: use another disk or folder", abs, c.DataDir)
	}
	return nil
}
