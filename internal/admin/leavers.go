package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// Leavers: `import --sync` locks pupils missing from the file and records
// the day (Account.LeftAt). After the grace period ([privacy]
// leaver_grace_days) the running server erases them as after a withdrawal
// of the platform consent; a pupil back in a file before then is unlocked
// and kept.

// DefaultLeaverGrace is [privacy] leaver_grace_days' default.
const DefaultLeaverGrace = 60 * 24 * time.Hour

// Leaver is one pupil locked by --sync.
type Leaver struct {
	Account string    `json:"account"`
	Name    string    `json:"name"` // first and last name
	LeftAt  time.Time `json:"left_at"`
	Due     time.Time `json:"due"` // erased on the first daily check after this
}

func (s *Service) leaverGrace() time.Duration {
	if s.LeaverGrace > 0 {
		return s.LeaverGrace
	}
	return DefaultLeaverGrace
}

// Leavers lists the pupils waiting for erasure, the earliest due first.
func (s *Service) Leavers() ([]Leaver, error) {
	all, err := s.Store.Accounts()
	if err != nil {
		return nil, err
	}
	out := []Leaver{}
	for _, a := range all {
		if isLeaver(&a) {
			out = append(out, Leaver{Account: a.Name, Name: a.First + " " + a.Last, LeftAt: a.LeftAt, Due: a.LeftAt.Add(s.leaverGrace())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Due.Before(out[j].Due) })
	return out, nil
}

// isLeaver: a pupil locked by --sync and not back since.
func isLeaver(a *store.Account) bool {
	return !a.LeftAt.IsZero() && a.Role == string(policy.Student) && a.Locked && strings.HasPrefix(a.LockReason, syncLockPrefix)
}

// LeaverErasure is one leaver erased by the daily check.
type LeaverErasure struct {
	Leaver
	Report *store.ErasureReport `json:"report,omitempty"`
	Err    string               `json:"error,omitempty"`
}

// LeaverActor is the actor the audit log names for the leavers' erasure.
const LeaverActor = "system:leavers"

// EraseDueLeavers erases every leaver whose grace period ended before
// now, each with an audit record carrying its erasure report. One failure
// does not stop the others; it is reported and tried again next day.
func (s *Service) EraseDueLeavers(actor string, now time.Time) ([]LeaverErasure, error) {
	list, err := s.Leavers()
	if err != nil {
		return nil, err
	}
	var out []LeaverErasure
	var errs []error
	for _, l := range list {
		if l.Due.After(now) {
			break // sorted: the rest is later
		}
		e := LeaverErasure{Leaver: l}
		// The erasure's one audit record ("privacy.erase", with the
		// report) names the leavers job as its actor; records written
		// after it could not name the person.
		e.Report, err = s.Store.EraseAccountBy(actor, l.Account, store.ErasePlatform)
		if err != nil {
			e.Err = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", l.Account, err))
		}
		s.forget(l.Account)
		out = append(out, e)
	}
	return out, errors.Join(errs...)
}

// LeaverLoop runs EraseDueLeavers at every tick until ctx ends (serve
// ticks daily and once at start). done, if not nil, gets each check's
// result: tests wait on it instead of sleeping.
func (s *Service) LeaverLoop(ctx context.Context, ticks <-chan time.Time, log *slog.Logger, done func([]LeaverErasure, error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticks:
			res, err := s.EraseDueLeavers(LeaverActor, now)
			for _, e := range res {
				if e.Err == "" {
					log.Info("leaver erased", "account", e.Account, "left", e.LeftAt.Format(dateLayout), "report", e.Report.Summary())
				}
			}
			if err != nil {
				log.Error("leaver erasure", "err", err)
			}
			if done != nil {
				done(res, err)
			}
		}
	}
}
