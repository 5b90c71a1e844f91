package store

// Privacy provider "audit": admin actions with actor, action, target and
// detail. The erased person's name is removed from the target, detail and
// actor of older entries; the one "privacy.erase" entry names the erasure
// and is written after this runs (erase.go).
//
// The audit log becomes hash-chained (issue 9, helper "audit"); this file
// is the one place that rewrites audit entries and will be replaced by a
// redaction that keeps the chain verifiable.

import "encoding/json"

// ErasedName replaces an erased person's name in audit entries.
const ErasedName = "[gelöscht]"

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       providerAudit,
		Buckets:    [][]byte{bucketAudit},
		Categories: []int{CategoryAutomatic},
		Keeps: "Protokoll der Handlungen von Administration und Auditoren: wer, wann, was, an wem, Begründung; " +
			"nach einer Löschung steht der Name der Person nur noch im Eintrag der Löschung",
		Retention: "dauerhaft, als Nachweis der Verwaltung; Namen gelöschter Personen werden entfernt",
		Erase:     eraseAudit,
	})
}

func eraseAudit(s *Store, account string, r *ErasureReport) error {
	return s.eraseScan(r, providerAudit, bucketAudit, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var rec AuditRecord
		if json.Unmarshal(v, &rec) != nil || rec.Action == ActionErase {
			return nil, false, nil
		}
		t1, d, a := redactName(rec.Target, account), redactName(rec.Detail, account), redactName(rec.Actor, account)
		if t1 == rec.Target && d == rec.Detail && a == rec.Actor {
			return nil, false, nil
		}
		rec.Target, rec.Detail, rec.Actor = t1, d, a
		nv, err := json.Marshal(rec)
		return nv, false, err
	})
}
