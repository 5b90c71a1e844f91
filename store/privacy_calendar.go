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
	"bytes"
	"encoding/json"
	"fmt"
	"time"
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

// calendarExport is one revision in the export, with its group.
type calendarExport struct {
	Group string `json:"group"`
	UID   string `json:"uid"`
	CalRevision
}

// exportCalendar writes the revisions the person made (created, edited,
// deleted), with their groups, to kalender.json; nothing if none.
func exportCalendar(s *Store, account string, out ExportSink) error {
	var list []calendarExport
	var last time.Time
	err := s.view(func(t *Tx) error {
		return t.bucket(bucketCalRevs).ForEach(func(k, v []byte) error {
			var rv CalRevision
			if err := json.Unmarshal(v, &rv); err != nil {
				return err
			}
			if rv.By != account {
				return nil
			}
			// key: group 0x00 uid 0x00 rev(8)
			parts := bytes.SplitN(k[:len(k)-9], []byte{0}, 2)
			if len(parts) != 2 {
				return fmt.Errorf("calendar revision key %q", k)
			}
			list = append(list, calendarExport{Group: string(parts[0]), UID: string(parts[1]), CalRevision: rv})
			if rv.Time.After(last) {
				last = rv.Time
			}
			return nil
		})
	})
	if err != nil || len(list) == 0 {
		return err
	}
	return writeJSONAt(out, "kalender.json", last, list)
}
