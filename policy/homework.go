package policy

import "time"

// Hausaufgaben: "Hausaufgaben können über den Schulserver gestellt werden,
// müssen aber im Unterricht angekündigt werden. Die Lehrkräfte achten dabei
// auf einen angemessenen Bearbeitungszeitraum."

// DefaultHomeworkMinDays is the shortest period (school days from setting
// to due) unless the config's [homework] min_days says otherwise.
const DefaultHomeworkMinDays = 2

// SchoolDays counts the days after set's date up to and including due's
// date that are not a Saturday or Sunday, both dates read in set's
// location. Public holidays and school holidays are not skipped: they
// differ by Land and year (movable feasts, Ferien), Schulhof has no
// authoritative calendar of them, and a wrong one would refuse fair tasks
// or allow unfair ones silently; the teacher still owes a fair period.
func SchoolDays(set, due time.Time) int {
	due = due.In(set.Location())
	d := time.Date(set.Year(), set.Month(), set.Day(), 0, 0, 0, 0, set.Location())
	end := time.Date(due.Year(), due.Month(), due.Day(), 0, 0, 0, 0, set.Location())
	n := 0
	for d = d.AddDate(0, 0, 1); !d.After(end); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}

// CheckHomework decides whether a task set at set, due at due, may be
// set: it must have been announced in class (HOMEWORK-ANNOUNCED) and leave
// at least minDays school days (HOMEWORK-PERIOD).
func CheckHomework(set, due time.Time, minDays int, announced bool) Decision {
	if !announced {
		return Deny(HomeworkAnnounced, "Hausaufgaben müssen im Unterricht angekündigt werden; bitte bestätigen Sie das.")
	}
	if !due.After(set) {
		return Deny(HomeworkPeriod, "Der Abgabetermin liegt nicht in der Zukunft.")
	}
	if n := SchoolDays(set, due); n < minDays {
		return Deny(HomeworkPeriod, "Bearbeitungszeitraum zu kurz: %d Schultag(e) bis zur Abgabe, mindestens %d (ohne Samstag und Sonntag).", n, minDays)
	}
	return Allowed
}
