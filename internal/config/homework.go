package config

import (
	"fmt"

	"schulhof/policy"
)

// Homework configures the Hausaufgaben module.
type Homework struct {
	// MinDays is the shortest period from setting a task to its due date,
	// in school days (Saturday and Sunday not counted): HOMEWORK-PERIOD.
	MinDays int `toml:"min_days"`
}

func defaultHomework() Homework { return Homework{MinDays: policy.DefaultHomeworkMinDays} }

func (h Homework) validate() error {
	if h.MinDays < 0 || h.MinDays > 60 {
		return fmt.Errorf("config: homework.min_days must be between 0 and 60, not %d", h.MinDays)
	}
	return nil
}
