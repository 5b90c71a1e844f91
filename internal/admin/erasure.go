package admin

import (
	"fmt"
	"sort"
	"strings"

	"schulhof/store"
)

// providerTitles name the privacy providers for the admin (German).
var providerTitles = map[string]string{
	"accounts":    "Benutzerkonto",
	"audit":       "Protokoll (Name entfernt)",
	"calendar":    "Kalender (Name entfernt)",
	"chat":        "Chat",
	"chatreports": "Chat-Meldungen",
	"exceptions":  "Ausnahmen",
	"files":       "Dateien",
	"forum":       "Forum (Beiträge als Platzhalter)",
	"groups":      "Gruppen",
	"homework":    "Hausaufgaben (Abgaben, Name entfernt)",
	"inspections": "Einsichten",
	"loginlog":    "Anmeldeprotokoll",
	"mail":        "E-Mail",
	"websessions": "Web-Sitzungen",
}

// ErasureText is an erasure report as the admin reads it (German): one
// line per provider with the records removed or made anonymous, then the
// bytes of content freed.
func ErasureText(r *store.ErasureReport) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	scope := "vollständig (Plattform)"
	if r.Scope == store.EraseComms {
		scope = "E-Mail und Chat"
	}
	fmt.Fprintf(&b, "Löschbericht für %s, Umfang: %s\n", r.Account, scope)
	names := make([]string, 0, len(r.Items))
	for n := range r.Items {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		title := providerTitles[n]
		if title == "" {
			title = n
		}
		fmt.Fprintf(&b, "  %-28s %8d Einträge\n", title, r.Items[n])
	}
	fmt.Fprintf(&b, "  %-28s %8d Bytes\n", "Inhalte freigegeben", r.BytesFreed)
	fmt.Fprintf(&b, "  %-28s %8d Seiten (freie Seiten der Datenbank mit Nullen überschrieben)\n", "Datenbank bereinigt", r.ScrubbedPages)
	if r.ScrubPending {
		b.WriteString("  Achtung: ein laufender Lesezugriff hält noch freigegebene Seiten; die Bereinigung wird im Hintergrund wiederholt.\n")
	}
	return b.String()
}
