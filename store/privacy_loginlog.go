package store

// Privacy provider "loginlog": every login attempt with the name tried,
// protocol, IP address, time and result. A record whose tried name is
// the erased account's goes (a name typed by someone else that happens to
// be theirs is theirs too: it says who was tried).

import (
	"encoding/json"
	"strings"
)

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       "loginlog",
		Buckets:    [][]byte{bucketLoginLog},
		Categories: []int{CategoryAutomatic},
		Keeps:      "alle Anmeldeversuche mit dem eingegebenen Account-Namen, Dienst, IP-Adresse, Zeitstempel und Ergebnis",
		Retention:  "die eingestellte Frist (auth.login_log_retention_days, Vorgabe 30 Tage), danach automatisch gelöscht",
		Erase:      eraseLoginLog,
	})
}

func eraseLoginLog(s *Store, account string, r *ErasureReport) error {
	return s.eraseScan(r, "loginlog", bucketLoginLog, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var rec LoginRecord
		if json.Unmarshal(v, &rec) != nil {
			return nil, false, nil
		}
		return nil, triedName(rec.Account) == account, nil
	})
}

// triedName is the account a login name means: as typed, without the
// domain of an address and in lower case.
func triedName(s string) string {
	s, _, _ = strings.Cut(s, "@")
	return strings.ToLower(s)
}
