package admin

import (
	"strconv"

	"schulhof/store"
)

// Chat reports for the CLI. Listing shows no chat content; reading one
// report is the only way to chat content for an admin, and the store
// records every read in the audit log (CHAT-READ-REPORTED).

// Reports lists reports, newest first.
func (s *Service) Reports(all bool) ([]store.ReportSummary, error) { return s.Store.Reports(all) }

// ReadReport returns one report and leaves the audit record of the read.
func (s *Service) ReadReport(actor string, id uint64) (*store.ChatReport, error) {
	r, err := s.Store.ReadReport(id, actor)
	return r, notFound(err, "report", strconv.FormatUint(id, 10))
}

// CloseReport marks a report handled, with a note (audited).
func (s *Service) CloseReport(actor string, id uint64, note string) error {
	return notFound(s.Store.CloseReport(id, actor, note, s.now()), "report", strconv.FormatUint(id, 10))
}
