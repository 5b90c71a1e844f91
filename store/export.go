package store

// Export (right of access, Art. 15 GDPR): everything the store keeps
// about one person, as a zip the person can open anywhere. ExportAccount
// writes a German README.txt first, then the part of every registered
// exporter (export_<domain>.go) in name order.
//
// Everything streams: contents are copied from their blob files with
// io.Copy, lists are read in short read transactions of a bounded number
// of records (a long read transaction would keep bbolt from reusing freed
// pages while a 1 GiB home folder is copied), so memory does not grow with
// what the person stored.

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// exportChunk is how many records one short read transaction takes.
const exportChunk = 512

// ErrExportRunning: an export of the same account is under way; one at a
// time keeps a repeated click from reading a large home folder twice.
var ErrExportRunning = errors.New("an export of this account is already running")

// ExportAccount writes everything stored about account to out, one export
// per account at a time.
func (s *Store) ExportAccount(account string, out ExportSink) error {
	return s.ExportAccountAudited(account, out, nil)
}

// ExportAccountAudited is ExportAccount that first commits an audit
// record (rec, when not nil): every export that reads anything has left
// its trace, and one refused (unknown account, LIMIT-EXPORTS) leaves none.
func (s *Store) ExportAccountAudited(account string, out ExportSink, rec *AuditRecord) error {
	if _, err := s.Account(account); err != nil {
		return err
	}
	if _, running := s.exports.LoadOrStore(account, struct{}{}); running {
		return ErrExportRunning
	}
	defer s.exports.Delete(account)
	if rec != nil {
		if err := s.update(func(t *Tx) error { return t.Audit(*rec) }); err != nil {
			return err
		}
	}
	names := ExporterNames()
	w, err := out.Create("README.txt", time.Now())
	if err != nil {
		return err
	}
	if err := writeExportReadme(w, account, names); err != nil {
		return err
	}
	for _, n := range names {
		if err := privacyExporters[n](s, account, out); err != nil {
			return fmt.Errorf("export %s: %w", n, err)
		}
	}
	return nil
}

// nothingToExport names the privacy providers without an exporter, and why.
var nothingToExport = map[string]string{
	"system": "keine personenbezogenen Daten (Schema-Version, gesperrte Domains, Referenzzähler)",
}

// ExporterNames lists the registered exporters, sorted.
func ExporterNames() []string {
	names := make([]string, 0, len(privacyExporters))
	for n := range privacyExporters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ZipSink is an ExportSink that writes a zip archive. Text parts (JSON,
// e-mail, the README) are compressed; files are stored as they are
// (mostly compressed already; deflating a 1 GiB home folder would cost
// the server minutes of CPU for little).
type ZipSink struct{ zw *zip.Writer }

// NewZipSink writes a zip to w; Close finishes it.
func NewZipSink(w io.Writer) *ZipSink { return &ZipSink{zw: zip.NewWriter(w)} }

// Create starts the next entry; a path ending in "/" is a folder.
func (z *ZipSink) Create(p string, modified time.Time) (io.Writer, error) {
	h := &zip.FileHeader{Name: p, Method: zip.Store, Modified: modified}
	switch path.Ext(p) {
	case ".json", ".eml", ".txt":
		h.Method = zip.Deflate
	}
	if strings.HasSuffix(p, "/") {
		h.Method = zip.Store
	}
	return z.zw.CreateHeader(h)
}

// Close writes the zip's central directory.
func (z *ZipSink) Close() error { return z.zw.Close() }

// jsonList streams a JSON array into one entry, element by element.
type jsonList struct {
	w   io.Writer
	n   int
	err error
}

func newJSONList(out ExportSink, p string) (*jsonList, error) {
	w, err := out.Create(p, time.Now())
	if err != nil {
		return nil, err
	}
	_, err = io.WriteString(w, "[")
	return &jsonList{w: w}, err
}

func (l *jsonList) add(v any) error {
	if l.err != nil {
		return l.err
	}
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		l.err = err
		return err
	}
	sep := ",\n  "
	if l.n == 0 {
		sep = "\n  "
	}
	l.n++
	if _, l.err = io.WriteString(l.w, sep); l.err == nil {
		_, l.err = l.w.Write(b)
	}
	return l.err
}

func (l *jsonList) close() error {
	if l.err != nil {
		return l.err
	}
	end := "\n]\n"
	if l.n == 0 {
		end = "]\n"
	}
	_, err := io.WriteString(l.w, end)
	return err
}

// writeJSON writes one value as an indented JSON entry.
func writeJSON(out ExportSink, p string, v any) error {
	return writeJSONAt(out, p, time.Now(), v)
}

// writeJSONAt is writeJSON with the entry's time given.
func writeJSONAt(out ExportSink, p string, at time.Time, v any) error {
	w, err := out.Create(p, at)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// safeNames gives every file and folder of an export a name that the
// extractors of Windows, macOS and Linux all write as it is: no
// character Windows forbids (<>:"/\|?* and control characters), no
// reserved device name (CON, NUL, COM1, …), no trailing dot or space, at
// most 150 bytes, and no two siblings that differ only in case (on
// case-insensitive disks one would overwrite the other). A clash gets
// " (2)", " (3)", … before its extension. The same raw name in the same
// folder always maps to the same safe name.
type safeNames struct {
	given map[string]string // folder 0x00 raw name → safe name
	taken map[string]bool   // folder 0x00 lower-case safe name
}

func newSafeNames() *safeNames {
	return &safeNames{given: map[string]string{}, taken: map[string]bool{}}
}

// join returns dir/name with name made safe in dir.
func (n *safeNames) join(dir, raw string) string {
	key := dir + "\x00" + raw
	if s, ok := n.given[key]; ok {
		return dir + "/" + s
	}
	base := safeName(raw)
	s := base
	for i := 2; n.taken[dir+"\x00"+strings.ToLower(s)]; i++ {
		ext := path.Ext(base)
		if len(ext) > 10 || ext == base {
			ext = ""
		}
		s = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(base, ext), i, ext)
	}
	n.taken[dir+"\x00"+strings.ToLower(s)] = true
	n.given[key] = s
	return dir + "/" + s
}

var reservedDeviceNames = map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true, "COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true, "LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true}

const maxSafeName = 150

// safeName is one path component as every extractor accepts it.
func safeName(raw string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(raw, "_") {
		switch {
		case r < 0x20 || r == 0x7f:
			b.WriteByte('_')
		case strings.ContainsRune(`<>:"/\|?*`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.TrimRight(b.String(), ". ")
	s = strings.TrimLeft(s, " ")
	if s == "" {
		s = "_"
	}
	stem, _, _ := strings.Cut(s, ".")
	if reservedDeviceNames[strings.ToUpper(strings.TrimSpace(stem))] {
		s = "_" + s
	}
	if len(s) > maxSafeName {
		ext := path.Ext(s)
		if len(ext) > 10 {
			ext = ""
		}
		cut := maxSafeName - len(ext)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimRight(s[:cut], ". ") + ext
	}
	return s
}
