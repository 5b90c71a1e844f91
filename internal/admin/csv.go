package admin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"schulhof/policy"
)

// Row is one person from an import file.
type Row struct {
	Line  int    // line number in the file (1 = header)
	ID    string // key of the school administration software, optional
	First string
	Last  string
	Class string // normalized group name, may be empty
	Role  policy.Role
	// Consent is the Einwilligung column; nil when absent or empty (the
	// defaults of a new account apply, an existing one keeps its own).
	Consent *ImportConsent
	// BirthDate (YYYY-MM-DD) from the Geburtsdatum column, "" if none.
	BirthDate string
}

// ImportConsent is an Einwilligung cell: which consents the school holds
// a signed form for.
type ImportConsent struct {
	Platform bool
	Comms    bool
}

// consentValues are the words of the Einwilligung column.
var consentValues = map[string]ImportConsent{
	"keine":                   {},
	"nein":                    {},
	"plattform":               {Platform: true},
	"plattform+kommunikation": {Platform: true, Comms: true},
	"plattform+komm":          {Platform: true, Comms: true},
	"alle":                    {Platform: true, Comms: true},
}

// parseBirthDate reads the Geburtsdatum column: TT.MM.JJJJ (German Excel)
// or JJJJ-MM-TT, a plausible day in the past.
func parseBirthDate(s string, today time.Time) (string, error) {
	var d time.Time
	var err error
	if strings.Contains(s, ".") {
		d, err = time.Parse("2.1.2006", s)
	} else {
		d, err = time.Parse("2006-01-02", s)
	}
	if err != nil {
		return "", fmt.Errorf("Geburtsdatum %q: TT.MM.JJJJ oder JJJJ-MM-TT", s)
	}
	if d.Year() < 1900 || d.After(today) {
		return "", fmt.Errorf("Geburtsdatum %q is not plausible", s)
	}
	return d.Format("2006-01-02"), nil
}

// maxImportBytes bounds an import file (a large school has a few thousand
// rows of a few dozen bytes).
const maxImportBytes = 16 << 20

// columnNames maps accepted header spellings to columns.
var columnNames = map[string]string{
	"vorname": "first", "first": "first", "firstname": "first", "first name": "first",
	"nachname": "last", "last": "last", "lastname": "last", "last name": "last", "name": "last",
	"klasse": "class", "class": "class", "gruppe": "class",
	"rolle": "role", "role": "role",
	"id": "id", "schueler-id": "id", "schüler-id": "id",
	"einwilligung": "consent", "consent": "consent",
	"geburtsdatum": "birth", "geburtstag": "birth", "birth date": "birth", "birthdate": "birth",
}

// roleNames maps the role column's words (German and English) to roles.
var roleNames = map[string]policy.Role{
	"": policy.Student, "s": policy.Student, "student": policy.Student, "schüler": policy.Student,
	"schülerin": policy.Student, "schueler": policy.Student, "schuelerin": policy.Student,
	"l": policy.Teacher, "teacher": policy.Teacher, "lehrer": policy.Teacher, "lehrerin": policy.Teacher,
	"lehrkraft": policy.Teacher,
	"admin":     policy.Admin, "administrator": policy.Admin,
	"auditor": policy.Auditor,
}

// decodeText returns the file as UTF-8: a UTF-8 BOM is dropped, valid
// UTF-8 is taken as is, anything else is read as Windows-1252 (what German
// Excel writes with "CSV (Trennzeichen-getrennt)").
func decodeText(data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data), nil
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("file is neither UTF-8 nor Windows-1252: %w", err)
	}
	return string(out), nil
}

// ParseUsersCSV reads an import file with a header row and the columns
// Vorname, Nachname, Klasse, Rolle and optionally ID, Einwilligung and
// Geburtsdatum, separated by ";" or ",". It returns every row it could read and one error per bad line; a
// caller imports nothing unless errs is empty. Names are checked against
// the default bounds.
func ParseUsersCSV(data []byte) (rows []Row, errs []error) {
	return parseUsersCSV(data, policy.NewEngine())
}

// parseUsersCSV is ParseUsersCSV with the bounds of eng.
func parseUsersCSV(data []byte, eng *policy.Engine) (rows []Row, errs []error) {
	if len(data) > maxImportBytes {
		return nil, []error{fmt.Errorf("file is larger than %d MiB", maxImportBytes>>20)}
	}
	text, err := decodeText(data)
	if err != nil {
		return nil, []error{err}
	}
	header, _, _ := strings.Cut(text, "\n")
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = ';'
	if strings.Count(header, ",") > strings.Count(header, ";") {
		r.Comma = ','
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true

	rec, err := r.Read()
	if err != nil {
		return nil, []error{fmt.Errorf("line 1: cannot read the header row: %v", err)}
	}
	hdrLen := len(rec)
	col := map[string]int{}
	for i, h := range rec {
		key, ok := columnNames[strings.ToLower(strings.TrimSpace(h))]
		if !ok {
			if strings.TrimSpace(h) == "" {
				continue
			}
			return nil, []error{fmt.Errorf("line 1: unknown column %q (expected Vorname, Nachname, Klasse, Rolle, ID, Einwilligung, Geburtsdatum)", h)}
		}
		if _, dup := col[key]; dup {
			return nil, []error{fmt.Errorf("line 1: column %q appears twice", h)}
		}
		col[key] = i
	}
	for _, need := range []string{"first", "last"} {
		if _, ok := col[need]; !ok {
			return nil, []error{fmt.Errorf("line 1: the header has no %s column (Vorname;Nachname;Klasse;Rolle)",
				map[string]string{"first": "Vorname", "last": "Nachname"}[need])}
		}
	}
	field := func(rec []string, key string) string {
		if i, ok := col[key]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, fmt.Errorf("line %d: %v", pe.StartLine, pe.Err))
				if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
					break // an open quote swallows the rest of the file
				}
				continue
			}
			errs = append(errs, err)
			break
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		row := Row{Line: line, ID: field(rec, "id"), First: field(rec, "first"), Last: field(rec, "last")}
		if len(rec) < hdrLen || len(rec) > hdrLen && strings.TrimSpace(strings.Join(rec[hdrLen:], "")) != "" {
			errs = append(errs, fmt.Errorf("line %d: %d fields, the header has %d", line, len(rec), hdrLen))
			continue
		}
		if row.First == "" || row.Last == "" {
			errs = append(errs, fmt.Errorf("line %d: Vorname and Nachname are required", line))
			continue
		}
		if d := eng.CheckPersonName(row.First, row.Last); !d.Allow {
			errs = append(errs, fmt.Errorf("line %d: %s", line, d))
			continue
		}
		if _, d := policy.AccountBase(row.First, row.Last); !d.Allow {
			errs = append(errs, fmt.Errorf("line %d: %s", line, d.Reason))
			continue
		}
		if c := field(rec, "class"); c != "" {
			n, d := eng.GroupName(c)
			if !d.Allow {
				errs = append(errs, fmt.Errorf("line %d: %s", line, d))
				continue
			}
			row.Class = n
		}
		role, ok := roleNames[strings.ToLower(field(rec, "role"))]
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown Rolle %q (Schüler, Lehrer, admin, auditor)", line, field(rec, "role")))
			continue
		}
		row.Role = role
		if v := strings.ToLower(strings.ReplaceAll(field(rec, "consent"), " ", "")); v != "" {
			c, ok := consentValues[v]
			if !ok {
				errs = append(errs, fmt.Errorf("line %d: unknown Einwilligung %q (keine, plattform, plattform+kommunikation)", line, field(rec, "consent")))
				continue
			}
			row.Consent = &c
		}
		if v := field(rec, "birth"); v != "" {
			b, err := parseBirthDate(v, time.Now())
			if err != nil {
				errs = append(errs, fmt.Errorf("line %d: %v", line, err))
				continue
			}
			row.BirthDate = b
		}
		if len(row.ID) > 64 {
			errs = append(errs, fmt.Errorf("line %d: ID longer than 64 characters", line))
			continue
		}
		rows = append(rows, row)
	}
	return rows, errs
}
