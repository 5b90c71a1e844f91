package store

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// The privacy registry: every domain of the store that holds personal data
// registers one PrivacyProvider (what it keeps, for which category of the
// Nutzungsordnung, for how long, and how to erase one person's part) and
// one Exporter (the person's part as files, for the right of access).
// Erasure and export iterate the registry; privacy_test.go fails on a
// bucket that no provider answers for.

// Nutzungsordnung categories of personal data ("Art der gespeicherten Daten").
const (
	CategoryRequired  = 1 // notwendige Daten zur Nutzung
	CategoryAutomatic = 2 // automatisch erstellte Daten zur Dokumentation
	CategorySchoolOrg = 3 // notwendige Daten für die Schulorganisation
	CategoryTeaching  = 4 // notwendige Daten für den Unterricht
	CategoryModules   = 5 // Daten aus (optionalen) System-Modulen
	CategoryVoluntary = 6 // freiwillige Daten ohne weitere Funktion
)

// EraseScope says which consent was withdrawn.
type EraseScope int

const (
	// ErasePlatform: platform consent withdrawn or the person left: all
	// the person stored is erased.
	ErasePlatform EraseScope = iota
	// EraseComms: communication consent withdrawn: mail and chat only.
	EraseComms
)

// PrivacyProvider declares one domain's personal data.
type PrivacyProvider struct {
	Name       string   // short ID: "accounts", "mail", "files", "chat", …
	Buckets    [][]byte // the bbolt buckets whose content it answers for
	Categories []int    // Nutzungsordnung categories (Category… constants)
	Keeps      string   // what it keeps, in German, for the privacy report
	Retention  string   // how long it is kept, in German
	Comms      bool     // erased also when only communication consent is withdrawn
	// Erase removes the person's part. It may commit in several
	// transactions (a large mailbox must not hold the write lock for
	// long) and adds what it removed to r.
	Erase func(s *Store, account string, r *ErasureReport) error
}

// ExportSink receives one person's data as named files (a zip writer).
type ExportSink interface {
	Create(path string, modified time.Time) (io.Writer, error)
}

// Exporter writes one provider's part of a person's data to out,
// streaming: a large mailbox or home folder is never held in memory.
type Exporter func(s *Store, account string, out ExportSink) error

// ErasureReport is what one erasure removed.
type ErasureReport struct {
	Account    string
	Scope      EraseScope
	Items      map[string]int // provider name → records removed
	BytesFreed int64          // blob and inline content no longer referenced
	// ScrubbedPages are the free database pages overwritten afterwards
	// (scrub.go): the erased records' old pages among them.
	ScrubbedPages int
	// ScrubPending: an open reader held freed pages too long; the scrub
	// runs again in the background.
	ScrubPending bool
}

// Add counts n removed records for a provider.
func (r *ErasureReport) Add(provider string, n int) {
	if r.Items == nil {
		r.Items = map[string]int{}
	}
	r.Items[provider] += n
}

var (
	privacyProviders []PrivacyProvider
	privacyExporters = map[string]Exporter{}
)

// registerPrivacy is called from the domain files' init functions.
func registerPrivacy(p PrivacyProvider) {
	for _, q := range privacyProviders {
		if q.Name == p.Name {
			panic(fmt.Sprintf("store: privacy provider %q registered twice", p.Name))
		}
	}
	privacyProviders = append(privacyProviders, p)
	sort.Slice(privacyProviders, func(i, j int) bool { return privacyProviders[i].Name < privacyProviders[j].Name })
}

// registerExport adds the exporter of the provider with the same name.
func registerExport(name string, fn Exporter) {
	if _, dup := privacyExporters[name]; dup {
		panic(fmt.Sprintf("store: exporter %q registered twice", name))
	}
	privacyExporters[name] = fn
}

// PrivacyProviders lists the registry, sorted by name.
func PrivacyProviders() []PrivacyProvider {
	return append([]PrivacyProvider(nil), privacyProviders...)
}

// redactName replaces every whole occurrence of an account name in s by
// ErasedName. Whole: "anna.b" in "anna.b2" or "hanna.b" is another
// person's name and stays.
func redactName(s, name string) string {
	if name == "" || !strings.Contains(s, name) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, name)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(name)
		whole := (i == 0 || !nameByte(s[i-1])) && (end == len(s) || !nameByte(s[end]))
		b.WriteString(s[:i])
		if whole {
			b.WriteString(ErasedName)
		} else {
			b.WriteString(name)
		}
		s = s[end:]
	}
}

// nameByte reports a byte that may be part of an account name.
func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c >= 0x80
}
