package admin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"schulhof/store"
)

// AuditFilter selects audit records; empty fields select everything.
type AuditFilter struct {
	Actor  string    // exact account or "cli:<user>"
	Person string    // named as target or in the detail (a whole name)
	Action string    // exact ("user.lock") or a prefix ending in "." ("inspect.")
	Since  time.Time // inclusive
	Until  time.Time // exclusive
}

// AuditList returns the matching records, oldest first.
func (s *Service) AuditList(f AuditFilter) ([]store.AuditRecord, error) {
	all, err := s.Store.AuditLog(f.Since)
	out := []store.AuditRecord{}
	for _, r := range all {
		switch {
		case f.Actor != "" && r.Actor != f.Actor:
		case f.Person != "" && !store.Mentions(r.Target, f.Person) && !store.Mentions(r.Detail, f.Person):
		case f.Action != "" && r.Action != f.Action && !(strings.HasSuffix(f.Action, ".") && strings.HasPrefix(r.Action, f.Action)):
		case !f.Until.IsZero() && !r.Time.Before(f.Until):
		default:
			out = append(out, r)
		}
	}
	return out, err
}

// AuditCheck is VerifyAudit with an optional anchor: the number and hash
// of an entry noted down earlier outside the server (the head printed by
// an earlier verify). A chain rewritten from that entry on verifies in
// itself, but no longer holds the noted hash.
func (s *Service) AuditCheck(anchor string) (store.AuditVerdict, error) {
	v, err := s.Store.VerifyAudit()
	if err != nil || v.Bad != nil || anchor == "" {
		return v, err
	}
	num, hash, ok := strings.Cut(anchor, ":")
	seq, perr := strconv.ParseUint(num, 10, 64)
	if !ok || perr != nil || seq == 0 {
		return v, fmt.Errorf("--anchor %q: use NR:HASH as printed by an earlier `audit verify`", anchor)
	}
	recs, err := s.Store.AuditLog(time.Time{})
	if err != nil {
		return v, err
	}
	if seq > uint64(len(recs)) {
		v.Bad = &store.AuditProblem{Position: len(recs) + 1, Seq: seq,
			Problem: fmt.Sprintf("der notierte Eintrag Nr. %d fehlt: die Kette endet bei Nr. %d — Einträge am Ende entfernt", seq, len(recs))}
		return v, nil
	}
	if r := recs[seq-1]; !strings.EqualFold(r.Hash, hash) {
		v.Bad = &store.AuditProblem{Position: int(seq), Seq: seq, Time: r.Time, Action: r.Action,
			Problem: "hat nicht mehr den notierten Hash: die Kette wurde bis hierher neu geschrieben"}
	}
	return v, nil
}
