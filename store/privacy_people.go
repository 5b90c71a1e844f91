package store

// Privacy providers of the smaller domains: size exceptions, group
// memberships and portal sessions.

import "encoding/json"

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       "exceptions",
		Buckets:    [][]byte{bucketExceptions},
		Categories: []int{CategorySchoolOrg, CategoryAutomatic},
		Keeps:      "befristete Ausnahmen von der Dateigrößengrenze: Account, Größe, Ablauf, Begründung, wer sie erteilt hat",
		Retention:  "bis zum Ablauf der Ausnahme, dann automatisch gelöscht",
		Erase: func(s *Store, account string, r *ErasureReport) error {
			if err := s.eraseLoop(r, "exceptions", func(t *Tx) (int, bool, error) {
				n, err := t.deletePrefix(bucketExceptions, []byte(account+"\x00"), eraseChunk)
				return n, n < eraseChunk, err
			}); err != nil {
				return err
			}
			// Exceptions the person granted (as an admin) keep no name.
			return s.eraseScan(r, "exceptions", bucketExceptions, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
				var x Exception
				if json.Unmarshal(v, &x) != nil || x.CreatedBy != account {
					return nil, false, nil
				}
				x.CreatedBy = ErasedName
				nv, err := json.Marshal(x)
				return nv, false, err
			})
		},
	})
	registerPrivacy(PrivacyProvider{
		Name:       "groups",
		Buckets:    [][]byte{bucketGroups},
		Categories: []int{CategorySchoolOrg},
		Keeps:      "Gruppen (Klassen, Kurse) mit Art, Erstellungsdatum, Ersteller und den Mitgliedern und Lehrkräften",
		Retention:  "solange die Gruppe besteht; eine Mitgliedschaft bis zum Austritt oder zur Löschung der Person",
		Erase: func(s *Store, account string, r *ErasureReport) error {
			return s.eraseScan(r, "groups", bucketGroups, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
				var g Group
				if err := json.Unmarshal(v, &g); err != nil {
					return nil, false, err
				}
				var m, tt bool
				g.Members, m = sortedRemove(g.Members, account)
				g.Teachers, tt = sortedRemove(g.Teachers, account)
				if g.CreatedBy == account {
					g.CreatedBy, m = ErasedName, true
				}
				if !m && !tt {
					return nil, false, nil
				}
				t.publish(Event{Kind: GroupChanged, Group: g.Name})
				nv, err := json.Marshal(g)
				return nv, false, err
			})
		},
	})
	registerPrivacy(PrivacyProvider{
		Name:       "websessions",
		Buckets:    [][]byte{bucketWebSessions, bucketWebSessionAcct},
		Categories: []int{CategoryAutomatic},
		Keeps:      "angemeldete Browser: Prüfsumme der Sitzungskennung, Account, Beginn, letzte Aktivität, IP-Adresse, Browserkennung",
		Retention:  "bis zur Abmeldung oder dem Ablauf der Sitzung",
		Erase: func(s *Store, account string, r *ErasureReport) error {
			return s.eraseUpdate(r, func(t *Tx) error {
				n, err := t.DeleteSessionsOf(account, "")
				r.Add("websessions", n)
				return err
			})
		},
	})
}
