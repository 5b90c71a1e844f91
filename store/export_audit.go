package store

import "strings"

// The audit part of an export: the admin actions whose target is the
// person (account created, locked, password reset, consent recorded,
// exported, …), in verwaltung.json, with their place in the hash chain.
// Inspection entries (inspect.*) are left out here: an inspection whose
// view has opened is in einsichten.json (export_inspections.go), one that
// still waits for its second auditor is not disclosed.

func init() { registerExport("audit", exportAudit) }

func exportAudit(s *Store, account string, out ExportSink) error {
	list, err := newJSONList(out, "verwaltung.json")
	if err != nil {
		return err
	}
	err = s.scanChunks(bucketAudit, nil, func(k, v []byte) error {
		r, err := decodeAuditRecord(v)
		if err != nil {
			return err
		}
		if r.Target != account || strings.HasPrefix(r.Action, "inspect.") {
			return nil
		}
		return list.add(r)
	})
	if err != nil {
		return err
	}
	return list.close()
}
