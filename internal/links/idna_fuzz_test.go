package links

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"schulhof/policy"
)

// FuzzNormalizeIDNA compares policy's own IDN handling with x/net/idna's
// UTS #46 lookup profile wherever the latter accepts a name: the block
// list must see the host a browser goes to.
func FuzzNormalizeIDNA(f *testing.F) {
	for _, s := range []string{"bücher.de", "ＥＶＩＬ.example", "evil\u00ad.example", "straße.de", "ελλάδα.gr", "日本語。jp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsAny(s, "/?#\\@:[]% *") || strings.HasPrefix(s, ".") {
			return
		}
		want, err := idna.Lookup.ToASCII(s)
		if err != nil || want == "" || strings.Contains(want, "..") || strings.HasPrefix(want, ".") || len(want) > 253 {
			return
		}
		want = strings.TrimSuffix(want, ".")
		for l := range strings.SplitSeq(want, ".") {
			if len(l) > 63 {
				return // idna's lookup profile does not check DNS lengths
			}
		}
		got, ok := policy.NormalizeDomain(s)
		if !ok || got != want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; idna %q", s, got, ok, want)
		}
	})
}
