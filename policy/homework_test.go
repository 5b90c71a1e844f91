package policy

import (
	"testing"
	"time"
)

func TestCheckHomework(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	// 2026-11-30 is a Monday.
	at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, berlin) }
	dec := func(day, hour int) time.Time { return time.Date(2026, 12, day, hour, 0, 0, 0, berlin) }
	for _, c := range []struct {
		name      string
		set, due  time.Time
		min       int
		announced bool
		days      int
		rule      Rule // "" allowed
	}{
		{"Mon to Wed: two school days", at(30, 10), dec(2, 8), 2, true, 2, ""},
		{"Mon to Tue: one", at(30, 10), dec(1, 23), 2, true, 1, HomeworkPeriod},
		{"Fri to Mon: the weekend does not count", dec(4, 10), dec(7, 8), 2, true, 1, HomeworkPeriod},
		{"Fri to Tue", dec(4, 10), dec(8, 8), 2, true, 2, ""},
		{"Sat to Mon", dec(5, 10), dec(7, 8), 2, true, 1, HomeworkPeriod},
		{"Thu to Mon", dec(3, 10), dec(7, 8), 2, true, 2, ""},
		{"same day", at(30, 8), at(30, 18), 2, true, 0, HomeworkPeriod},
		{"due in the past", at(30, 10), at(29, 10), 0, true, 0, HomeworkPeriod},
		{"due at the moment it is set", at(30, 10), at(30, 10), 0, true, 0, HomeworkPeriod},
		{"min 0 allows the same day", at(30, 8), at(30, 18), 0, true, 0, ""},
		{"min 5: one week", at(30, 10), dec(7, 8), 5, true, 5, ""},
		{"min 5: four days", at(30, 10), dec(4, 8), 5, true, 4, HomeworkPeriod},
		{"not announced", at(30, 10), dec(14, 8), 2, false, 10, HomeworkAnnounced},
		{"due given in UTC, late evening Berlin", at(30, 10), time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC), 2, true, 2, ""},
	} {
		if n := SchoolDays(c.set, c.due); c.due.After(c.set) && n != c.days {
			t.Errorf("%s: %d school days, want %d", c.name, n, c.days)
		}
		d := CheckHomework(c.set, c.due, c.min, c.announced)
		if c.rule == "" && !d.Allow {
			t.Errorf("%s: refused: %v", c.name, d)
		}
		if c.rule != "" && (d.Allow || d.Rule != c.rule || d.Reason == "") {
			t.Errorf("%s: got %v, want a refusal by %s", c.name, d, c.rule)
		}
	}
}
