package main

import (
	"context"
	"fmt"
	"io"

	"schulhof/internal/admin"
)

// startBackups runs the scheduled backups of [backup] (none without a
// dir) and returns the function that stops them, waiting for a backup
// that is being written.
func (s *server) startBackups(ctx context.Context, stdout io.Writer) (stop func()) {
	b := s.cfg.Backup
	if b.Dir == "" {
		return func() {}
	}
	h, m := b.At()
	sched := &admin.BackupSchedule{Store: s.st, Dir: b.Dir, Hour: h, Minute: m, Keep: b.Keep(), Log: s.log}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); sched.Run(ctx) }()
	fmt.Fprintf(stdout, "%-14s %s daily at %s, kept %d days\n", "backups", b.Dir, b.Time, b.KeepDays)
	return func() { cancel(); <-done }
}
