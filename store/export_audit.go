package store

import (
	"encoding/json"
	"strings"
)

// The audit part of an export: the admin actions whose target is the
// person (account created, locked, password reset, consent recorded,
// exported, …), in verwaltung.json. Inspection entries (inspect.*) are
// left out: the person learns of an inspection by the notice delivered
// to the INBOX when the view opens (and so in the export's mail), not
// while a request still waits for its second auditor.

func init() { registerExport("audit", exportAudit) }

func exportAudit(s *Store, account string, out ExportSink) error {
	list, err := newJSONList(out, "verwaltung.json")
	if err != nil {
		return err
	}
	err = s.scanChunks(bucketAudit, nil, func(k, v []byte) error {
		var r AuditRecord
		if err := json.Unmarshal(v, &r); err != nil {
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
