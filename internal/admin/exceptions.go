package admin

import (
	"fmt"
	"strings"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// AddException lets an account transfer up to bytes until the end of the
// given day (local time), as agreed with the administrators.
func (s *Service) AddException(actor, name string, bytes int64, until time.Time, reason string) (store.Exception, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return store.Exception{}, fmt.Errorf("a reason is required (--reason)")
	}
	if bytes <= s.Policy.MaxTransferBytes {
		return store.Exception{}, fmt.Errorf("--bytes %s is not above the normal limit of %s",
			policy.FormatBytes(bytes), policy.FormatBytes(s.Policy.MaxTransferBytes))
	}
	if !until.After(s.now()) {
		return store.Exception{}, fmt.Errorf("--until %s is in the past", until.Format("2006-01-02"))
	}
	x := store.Exception{Account: name, Bytes: bytes, Until: until.UTC(), Reason: reason, CreatedAt: s.now(), CreatedBy: actor}
	err := s.Store.Update(func(t *store.Tx) error {
		if err := t.AddException(x); err != nil {
			return notFound(err, "user", name)
		}
		return t.Audit(store.AuditRecord{Actor: actor, Action: "exception.add", Target: name,
			Detail: fmt.Sprintf("bytes=%d until=%s reason=%s", bytes, x.Until.Format(time.RFC3339), reason)})
	})
	return x, err
}

// Exceptions lists the exceptions still in force.
func (s *Service) Exceptions() ([]store.Exception, error) {
	all, err := s.Store.Exceptions("")
	out := []store.Exception{}
	for _, x := range all {
		if x.Until.After(s.now()) {
			out = append(out, x)
		}
	}
	return out, err
}

// LoginLog returns login attempts of the last `since` for an auditor
// (AUDIT-INSPECT: admins do not evaluate logs); the read is audited. One
// person's attempts are an inspection (scope loginlog), not a filter here.
func (s *Service) LoginLog(c Creds, name string, since time.Duration) ([]store.LoginRecord, error) {
	who, err := s.inspector(c)
	if err != nil {
		return nil, s.refuseInspect(policy.Inspector{}, c, "log.read", name, refusalOf(err))
	}
	if d := policy.CheckLogRead(who, name != ""); !d.Allow {
		return nil, s.refuseInspect(who, c, "log.read", name, d)
	}
	if err := s.Store.Update(func(t *store.Tx) error {
		return t.Audit(store.AuditRecord{Actor: who.Name, Action: "log.read", Detail: fmt.Sprintf("loginlog since=%s via %s", since, c.Via)})
	}); err != nil {
		return nil, err
	}
	recs, err := s.Store.LoginLog("", s.now().Add(-since))
	if recs == nil {
		recs = []store.LoginRecord{}
	}
	return recs, err
}
