package policy

import (
	"strings"
	"testing"
)

// BenchmarkNormalizeDomainWorst: the longest accepted input, every rune a
// different code point (punycode's worst case).
func BenchmarkNormalizeDomainWorst(b *testing.B) {
	var sb strings.Builder
	for r := rune(0x4e00); sb.Len() < 4*maxDomainLength-3; r++ {
		sb.WriteRune(r)
	}
	s := sb.String()
	for b.Loop() {
		NormalizeDomain(s)
	}
}

func BenchmarkNormalizeDomainASCII(b *testing.B) {
	for b.Loop() {
		NormalizeDomain("www.Example.org")
	}
}
