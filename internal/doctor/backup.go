package doctor

import (
	"errors"
	"time"

	"schulhof/store"
)

// Backups run nightly: a day and a bit is normal, two days means at least
// one run failed.
const (
	backupLate = 26 * time.Hour
	backupOld  = 48 * time.Hour
)

// checkBackup looks at the newest complete backup in dir ([backup] dir).
func checkBackup(dir string, now time.Time) Finding {
	const check = "backup"
	if dir == "" {
		return finding(check, Warn, "backup.off")
	}
	last, err := store.LatestBackup(dir)
	switch {
	case errors.Is(err, store.ErrNoBackup):
		return finding(check, Fail, "backup.none", dir)
	case err != nil:
		return finding(check, Fail, "backup.error", dir, err)
	}
	age := now.Sub(last)
	when := last.Local().Format("2006-01-02 15:04")
	hours := int(age.Hours())
	switch {
	case age > backupOld:
		return finding(check, Fail, "backup.old", dir, when, hours)
	case age > backupLate:
		return finding(check, Warn, "backup.late", dir, when, hours)
	default:
		return finding(check, OK, "backup.ok", dir, when, hours)
	}
}
