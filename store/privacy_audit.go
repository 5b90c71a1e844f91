package store

// Privacy provider "audit": admin and auditor actions with actor, action,
// target and detail. Erasing a person erases the texts that name them
// (actor, target, detail) but keeps their salted digests, so the hash
// chain still verifies (audit.go); the one "privacy.erase" entry names the
// erasure and is written after this runs (erase.go).

// ErasedName replaces an erased person's name where a text is kept but
// the name goes (redactName, privacy.go).
const ErasedName = "[gelöscht]"

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       providerAudit,
		Buckets:    [][]byte{bucketAudit},
		Categories: []int{CategoryAutomatic},
		Keeps: "Protokoll der Handlungen von Administration und Auditoren: wer, wann, was, an wem, Begründung, " +
			"als Hash-Kette; nach einer Löschung steht der Name der Person nur noch im Eintrag der Löschung, " +
			"die übrigen Angaben zu ihr nur noch als gesalzener Prüfwert",
		Retention: "dauerhaft, als Nachweis der Verwaltung; Angaben zu gelöschten Personen werden entfernt, die Kette bleibt prüfbar",
		Erase:     eraseAudit,
	})
}

func eraseAudit(s *Store, account string, r *ErasureReport) error {
	return s.eraseScan(r, providerAudit, bucketAudit, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		nv, err := redactAuditValue(v, account)
		return nv, false, err
	})
}
