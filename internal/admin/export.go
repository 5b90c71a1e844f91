package admin

import (
	"errors"
	"io"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// ExportStats is what an export wrote.
type ExportStats struct {
	Entries int   // files and folders in the zip
	Bytes   int64 // size of the zip
}

// ExportUser writes the zip of everything the store keeps about name to w
// (right of access, Art. 15 GDPR: the person asked for it). An admin who
// exports a person's data reads the person's content, so the audit record
// (user.export) commits before the first byte is read; an export that
// fails half-way has still left its trace, one refused before it read
// anything (unknown account, LIMIT-EXPORTS) leaves none.
func (s *Service) ExportUser(actor, name string, w io.Writer) (ExportStats, error) {
	var st ExportStats
	rec := &store.AuditRecord{Time: s.now(), Actor: actor, Action: "user.export", Target: name,
		Detail: "Auskunft nach Art. 15 DSGVO auf Wunsch der Person: alle gespeicherten Daten als Zip"}
	cw := &countingWriter{w: w}
	sink := &countingSink{ZipSink: store.NewZipSink(cw)}
	if err := s.Store.ExportAccountAudited(name, sink, rec); err != nil {
		return st, ExportRefusal(notFound(err, "user", name))
	}
	if err := sink.Close(); err != nil {
		return st, err
	}
	return ExportStats{Entries: sink.n, Bytes: cw.n}, nil
}

// ExportRefusal names the rule of an export that may not start now.
func ExportRefusal(err error) error {
	if errors.Is(err, store.ErrExportRunning) {
		return policy.Deny(policy.LimitExports, "Für dieses Konto läuft bereits ein Export; bitte warten, bis er fertig ist.").Err()
	}
	return err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type countingSink struct {
	*store.ZipSink
	n int
}

func (c *countingSink) Create(p string, modified time.Time) (io.Writer, error) {
	c.n++
	return c.ZipSink.Create(p, modified)
}
