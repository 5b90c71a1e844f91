package admin

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"schulhof/store"
)

// Clock is the scheduler's time: the real one in `serve`, a fake in tests
// (which move time on without sleeping).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// BackupSchedule takes a backup every day at one local time of day and
// then deletes the backups older than Keep, so that erased data leaves
// the backups within Keep.
type BackupSchedule struct {
	Store        *store.Store
	Dir          string
	Hour, Minute int
	Keep         time.Duration
	Clock        Clock // nil: the real clock
	Log          *slog.Logger
	// Ran, if set, is told after every run (tests wait on it).
	Ran func(res *store.BackupResult, pruned []string, err error)
}

// NextBackup is the first time of day hour:minute in now's location after
// now (AddDate keeps the wall-clock time across DST changes).
func NextBackup(now time.Time, hour, minute int) time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), hour, minute, 0, 0, now.Location())
	for !t.After(now) {
		t = time.Date(t.Year(), t.Month(), t.Day()+1, hour, minute, 0, 0, now.Location())
	}
	return t
}

// Run takes the backups until ctx ends. A server that has no backup from
// the last 24 hours (first start, or it was off at the scheduled time)
// takes one at once.
func (b *BackupSchedule) Run(ctx context.Context) {
	clock := b.Clock
	if clock == nil {
		clock = realClock{}
	}
	if last, err := store.LatestBackup(b.Dir); err != nil || clock.Now().Sub(last) >= 24*time.Hour {
		b.RunOnce(clock.Now())
	}
	for {
		now := clock.Now()
		next := NextBackup(now, b.Hour, b.Minute)
		select {
		case <-ctx.Done():
			return
		case <-clock.After(next.Sub(now)):
		}
		b.RunOnce(clock.Now())
	}
}

// RunOnce takes one backup at now and prunes. Pruning runs even when the
// backup failed: the deletion promised for erased data does not wait for
// a healthy backup disk (doctor and the backup-age metric show the
// failure).
func (b *BackupSchedule) RunOnce(now time.Time) {
	log := b.Log
	if log == nil {
		log = slog.Default()
	}
	res, err := b.Store.Backup(b.Dir, store.BackupOptions{Now: func() time.Time { return now }, Actor: "schedule"})
	if err != nil {
		log.Error("scheduled backup failed", "dir", b.Dir, "err", err)
	} else {
		log.Info("backup", "path", res.Path, "blobs", res.Manifest.Counts.Blobs,
			"copied_bytes", res.Manifest.Bytes.Copied, "linked_bytes", res.Manifest.Bytes.Linked)
	}
	pruned, perr := store.PruneBackups(b.Dir, b.Keep, now)
	if perr != nil {
		log.Error("pruning backups failed", "dir", b.Dir, "err", perr)
	} else if len(pruned) > 0 {
		log.Info("old backups deleted", "dir", b.Dir, "keep", b.Keep.String(), "deleted", len(pruned))
	}
	if b.Ran != nil {
		b.Ran(res, pruned, errors.Join(err, perr))
	}
}
