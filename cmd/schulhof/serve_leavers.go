package main

import (
	"context"
	"time"

	"schulhof/internal/admin"
)

// leaverCheckEvery is how often the server looks for leavers whose grace
// period ended ([privacy] leaver_grace_days).
const leaverCheckEvery = 24 * time.Hour

// startLeaverCheck runs the leavers' erasure at start and then daily.
// done, if set, gets every check's result (tests).
func (s *server) startLeaverCheck(ctx context.Context, done func([]admin.LeaverErasure, error)) {
	ticks := make(chan time.Time)
	go func() {
		t := time.NewTicker(leaverCheckEvery)
		defer t.Stop()
		now := time.Now()
		for {
			select {
			case ticks <- now:
			case <-ctx.Done():
				return
			}
			select {
			case now = <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	go s.admin.LeaverLoop(ctx, ticks, s.log, done)
}
