package admin

import (
	"testing"

	"schulhof/store"
)

// TestEveryProviderHasAGermanTitle: the erasure report names each
// provider for the admin in German, a new provider included.
func TestEveryProviderHasAGermanTitle(t *testing.T) {
	for _, p := range store.PrivacyProviders() {
		if p.Name == "system" {
			continue // holds no personal data, never in a report
		}
		if providerTitles[p.Name] == "" {
			t.Errorf("privacy provider %q has no German title in providerTitles", p.Name)
		}
	}
}
