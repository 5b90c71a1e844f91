package auth

import (
	"context"
	"time"
)

// Purge removes login-log entries older than the retention and expired
// size exceptions. It returns how many log entries went.
func (v *Verifier) Purge(retention time.Duration) (int, error) {
	now := v.opt.Now()
	n, err := v.st.PurgeLoginLog(now.Add(-retention))
	if err != nil {
		return n, err
	}
	_, err = v.st.PurgeExpiredExceptions(now)
	return n, err
}

// PurgeLoop runs Purge at start and then every interval until ctx ends.
func (v *Verifier) PurgeLoop(ctx context.Context, retention, interval time.Duration) {
	for {
		if n, err := v.Purge(retention); err != nil {
			v.opt.Logger.Error("purge login log", "err", err)
		} else if n > 0 {
			v.opt.Logger.Info("purged login log", "entries", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
