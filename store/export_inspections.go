package store

import "time"

// The inspections' part of an export: the inspections (Inaugenscheinnahme)
// of the person's data whose view has opened, in einsichten.json: scope,
// reason, case reference, who requested and who approved, when, until
// when. The person was told of each by the notice in the INBOX when it
// opened. A request still waiting for its second auditor is not
// disclosed: it may be refused, and the Nutzungsordnung informs the
// person when the inspection takes place.

func init() { registerExport("inspections", exportInspections) }

func exportInspections(s *Store, account string, out ExportSink) error {
	all, err := s.Inspections()
	if err != nil {
		return err
	}
	type inspection struct {
		Scope       string    `json:"umfang"`
		Reason      string    `json:"grund"`
		Case        string    `json:"aktenzeichen"`
		RequestedBy string    `json:"beantragt_von"`
		RequestedAt time.Time `json:"beantragt_am"`
		ApprovedBy  string    `json:"genehmigt_von"`
		ApprovedAt  time.Time `json:"genehmigt_am"`
		Until       time.Time `json:"einsicht_bis,omitzero"`
		Closed      bool      `json:"beendet"`
	}
	list := []inspection{}
	for _, in := range all {
		if in.Person != account || in.ApprovedAt.IsZero() {
			continue
		}
		list = append(list, inspection{in.Scope, in.Reason, in.Case, in.RequestedBy, in.RequestedAt,
			in.ApprovedBy, in.ApprovedAt, in.Until, in.Closed})
	}
	return writeJSON(out, "einsichten.json", list)
}
