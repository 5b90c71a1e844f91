package store

// Privacy provider "calendar": a group calendar's entries are the group's
// organisation data (the class trip stays on the calendar when the
// teacher who entered it leaves). When a person is erased, the entries
// and revisions they made stay, but their name goes: "created by",
// "changed by" and the revisions' authors become ErasedName, and the
// name is removed from the texts (title, place, description, iCalendar)
// of every entry and revision. The history keeps its shape: it still
// shows that someone made each change, and when.

import (
	"encoding/json"
	"fmt"
)

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       "calendar",
		Buckets:    [][]byte{bucketCalendars, bucketCalEntries, bucketCalRevs, bucketCalFeeds},
		Categories: []int{CategorySchoolOrg, CategoryModules},
		Keeps: "Gruppenkalender: Termine (Titel, Ort, Beschreibung, Zeit) mit wer sie angelegt und zuletzt geändert hat, " +
			"jede frühere Fassung mit Verfasser und Zeitpunkt; Einstellung der Gruppe; Prüfwert (nie das Geheimnis) der Abonnement-Adresse",
		Retention: "solange die Gruppe besteht; beim Löschen einer Person bleiben ihre Termine als Daten der Gruppe, " +
			"ihr Name wird aus Terminen und Verlauf entfernt",
		Erase: eraseCalendar,
	})
	registerExport("calendar", exportCalendar)
}

func eraseCalendar(s *Store, account string, r *ErasureReport) error {
	scrubFields := func(f *CalFields) bool {
		before := f.Title + f.Location + f.Description + f.ICS
		f.Title = redactName(f.Title, account)
		f.Location = redactName(f.Location, account)
		f.Description = redactName(f.Description, account)
		f.ICS = redactName(f.ICS, account)
		return before != f.Title+f.Location+f.Description+f.ICS
	}
	err := s.eraseScan(r, "calendar", bucketCalEntries, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var e CalEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, false, err
		}
		changed := scrubFields(&e.CalFields)
		if e.CreatedBy == account {
			e.CreatedBy, changed = ErasedName, true
		}
		if e.ChangedBy == account {
			e.ChangedBy, changed = ErasedName, true
		}
		if !changed {
			return nil, false, nil
		}
		nv, err := json.Marshal(e)
		return nv, false, err
	})
	if err != nil {
		return err
	}
	return s.eraseScan(r, "calendar", bucketCalRevs, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var rv CalRevision
		if err := json.Unmarshal(v, &rv); err != nil {
			return nil, false, err
		}
		changed := scrubFields(&rv.CalFields)
		if rv.By == account {
			rv.By, changed = ErasedName, true
		}
		if !changed {
			return nil, false, nil
		}
		nv, err := json.Marshal(rv)
		return nv, false, err
	})
}

// exportCalendar writes the revisions the person made, one JSON file per
// group: calendar/<group>.json.
func exportCalendar(s *Store, account string, out ExportSink) error {
	byGroup := map[string][]CalRevision{}
	var order []string
	err := s.view(func(t *Tx) error {
		return t.bucket(bucketCalRevs).ForEach(func(k, v []byte) error {
			var rv CalRevision
			if err := json.Unmarshal(v, &rv); err != nil {
				return err
			}
			if rv.By != account {
				return nil
			}
			i := 0
			for i < len(k) && k[i] != 0 {
				i++
			}
			g := string(k[:i])
			if _, ok := byGroup[g]; !ok {
				order = append(order, g)
			}
			byGroup[g] = append(byGroup[g], rv)
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, g := range order {
		w, err := out.Create(fmt.Sprintf("calendar/%s.json", g), byGroup[g][len(byGroup[g])-1].Time)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(byGroup[g]); err != nil {
			return err
		}
	}
	return nil
}
