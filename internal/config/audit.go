package config

import (
	"fmt"
	"time"
)

// Audit configures inspections ([audit]).
type Audit struct {
	// InspectViewDays: how long the two auditors of an approved
	// inspection can see the person's data (AUDIT-INSPECT).
	InspectViewDays int `toml:"inspect_view_days"`
}

func defaultAudit() Audit { return Audit{InspectViewDays: 7} }

func (a Audit) validate() error {
	if a.InspectViewDays < 1 || a.InspectViewDays > 90 {
		return fmt.Errorf("config: audit.inspect_view_days must be between 1 and 90")
	}
	return nil
}

// InspectView is the view's length as a duration.
func (a Audit) InspectView() time.Duration { return time.Duration(a.InspectViewDays) * 24 * time.Hour }
