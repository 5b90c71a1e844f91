// Package doctor holds the checks of `schulhof doctor`: one file per check,
// each returning findings (OK, WARNUNG, FEHLER) that say what is wrong and
// what to do, in German or English from the catalog in texts.go.
//
// The checks that need the open store (database, blobs, disk) run where
// the store is: in the running server over the admin socket, or in the
// CLI process on a read-only store when no server runs (StoreFindings).
// The others (listeners, certificate, DNS, backup age) run in the CLI
// process (Network, Backup).
package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Severity of a finding.
type Severity int

const (
	OK Severity = iota
	Warn
	Fail
)

// Finding is one result. Key names its texts in the catalog; Args fill
// them. It travels as JSON from the server to the CLI.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	Key      string   `json:"key"`
	Args     []string `json:"args,omitempty"`
}

func finding(check string, sev Severity, key string, args ...any) Finding {
	f := Finding{Check: check, Severity: sev, Key: key}
	for _, a := range args {
		f.Args = append(f.Args, fmt.Sprint(a))
	}
	return f
}

// Text is what was found and what to do ("" for most OK findings), in
// lang ("de" or "en").
func (f Finding) Text(lang string) (what, todo string) {
	e, ok := catalog[f.Key]
	if !ok {
		return f.Key + " " + strings.Join(f.Args, " "), ""
	}
	t := e.de
	if lang == "en" {
		t = e.en
	}
	args := make([]any, len(f.Args))
	for i, a := range f.Args {
		args[i] = a
	}
	return format(t[0], args), format(t[1], args)
}

// format fills a catalog text; a text need not use every argument (the
// remedy often names one of them).
func format(text string, args []any) string {
	if !strings.Contains(text, "%") {
		return text
	}
	s := fmt.Sprintf(text, args...)
	if i := strings.Index(s, "%!(EXTRA"); i >= 0 {
		s = s[:i]
	}
	return s
}

// Failed reports whether any finding is FEHLER (the exit status).
func Failed(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Fail {
			return true
		}
	}
	return false
}

// Write prints the findings, one block each, and a summary line.
func Write(w io.Writer, fs []Finding, lang string) {
	var n [3]int
	for _, f := range fs {
		n[f.Severity]++
		what, todo := f.Text(lang)
		label := fmt.Sprintf("[%s]", severityName(f.Severity, lang))
		fmt.Fprintf(w, "%-10s %s: %s\n", label, checkName(f.Check, lang), what)
		if todo != "" {
			fmt.Fprintf(w, "%-10s → %s\n", "", todo)
		}
	}
	if lang == "en" {
		fmt.Fprintf(w, "\n%d OK, %d WARNING, %d ERROR\n", n[OK], n[Warn], n[Fail])
	} else {
		fmt.Fprintf(w, "\n%d OK, %d WARNUNG, %d FEHLER\n", n[OK], n[Warn], n[Fail])
	}
}

func severityName(s Severity, lang string) string {
	names := [3]string{"OK", "WARNUNG", "FEHLER"}
	if lang == "en" {
		names = [3]string{"OK", "WARNING", "ERROR"}
	}
	return names[s]
}

func checkName(check, lang string) string {
	if n, ok := checkNames[check]; ok {
		if lang == "en" {
			return n[1]
		}
		return n[0]
	}
	return check
}

// list shows at most a few items, then how many more.
func list(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s (+%d)", strings.Join(items[:max], ", "), len(items)-max)
}

// size formats a size for people.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
