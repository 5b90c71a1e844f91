package store

// Privacy provider "chatreports": reports keep a frozen copy of the
// reported message and its neighbours. The erased person's messages in
// that copy become tombstones like in the room; a report they filed loses
// the reporter's name and the reason they wrote (the report itself stays
// for the admins: it is about someone else's message); a report about
// their message keeps the frozen context's shape but no author.

import "encoding/json"

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       "chatreports",
		Buckets:    [][]byte{bucketChatReports},
		Categories: []int{CategoryAutomatic, CategoryTeaching},
		Keeps: "Meldungen von Chat-Nachrichten: wer gemeldet hat, Grund, Zeitpunkt, die gemeldete Nachricht " +
			"mit den Nachrichten davor und danach (eingefroren), Bearbeitungsvermerk der Administration",
		Retention: "bis die Meldung bearbeitet und ihre Aufbewahrung beendet ist; beim Widerruf der Einwilligung " +
			"werden Name und Texte der Person in allen Meldungen entfernt",
		Comms: true,
		Erase: eraseReports,
	})
}

func eraseReports(s *Store, account string, r *ErasureReport) error {
	return s.eraseScan(r, "chatreports", bucketChatReports, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var rep ChatReport
		if err := json.Unmarshal(v, &rep); err != nil {
			return nil, false, err
		}
		changed := false
		if rep.Reporter == account { // the reason is their text too
			rep.Reporter, rep.Reason, changed = "", "", true
		}
		if rep.Author == account {
			rep.Author, changed = "", true
		}
		if rep.ClosedBy == account {
			rep.ClosedBy, changed = "", true
		}
		for i := range rep.Context {
			m := &rep.Context[i]
			if m.Author == account {
				m.Author, m.Text, m.Deleted, m.Edited, changed = "", "", true, false, true
			}
			if m.DeletedBy == account {
				m.DeletedBy, changed = "", true
			}
		}
		if !changed {
			return nil, false, nil
		}
		nv, err := json.Marshal(rep)
		return nv, false, err
	})
}
