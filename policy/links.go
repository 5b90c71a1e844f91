package policy

import (
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// maxDomainLength is DNS's limit for a name in text form.
const maxDomainLength = 253

// idnDots are the full stops IDNA treats like "." (UTS #46).
var idnDots = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".")

// NormalizeDomain turns a domain as an admin types it (or as a link names
// it) into the one form the block list compares: lower case, no trailing
// dot, international names in their ASCII (punycode "xn--") form, IP
// addresses in their canonical text form. It accepts a pasted URL
// ("https://www.example.com/x" → "www.example.com") and a leading "*." or
// ".". It reports false for anything that is not a host name.
func NormalizeDomain(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#\\"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if s == "" || len(s) > 4*maxDomainLength || !utf8.ValidString(s) {
		return "", false
	}
	if maybeIP(s) {
		if ip, ok := normalizeIP(s); ok {
			return ip, true
		}
	}
	if i := strings.IndexByte(s, ':'); i >= 0 { // port
		s = s[:i]
	}
	if !isASCII(s) {
		s = idnDots.Replace(s)
	}
	s = strings.TrimPrefix(s, "*.")
	s = strings.TrimPrefix(s, ".")
	s = strings.TrimSuffix(s, ".")
	if !isASCII(s) {
		if strings.ContainsAny(s, "\ue000\ue001") {
			return "", false
		}
		s = idnDots.Replace(idnaMap(s))
		labels := strings.Split(s, ".")
		for i, l := range labels {
			if isASCII(l) {
				continue
			}
			if utf8.RuneCountInString(l) > 63 { // cannot fit; and bounds punycode's quadratic work
				return "", false
			}
			enc, ok := punycodeEncode(l)
			if !ok {
				return "", false
			}
			labels[i] = "xn--" + enc
		}
		s = strings.Join(labels, ".")
	}
	s = strings.ToLower(s)
	if !validDomain(s) {
		return "", false
	}
	return s, true
}

// maybeIP is a cheap pre-check before parsing an address.
func maybeIP(s string) bool {
	last := s[len(s)-1]
	return s[0] == '[' || strings.IndexByte(s, ':') >= 0 || last >= '0' && last <= '9'
}

// normalizeIP accepts "1.2.3.4", "[2001:db8::1]" (with an optional port)
// and a bare IPv6 address.
func normalizeIP(s string) (string, bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", false
		}
		s = s[1:end]
	} else if strings.Count(s, ":") == 1 {
		s = s[:strings.IndexByte(s, ':')]
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" {
		return "", false
	}
	return ip.Unmap().String(), true
}

// Deviations: IDNA2008 (and browsers) keep ß and ς, which case folding
// would turn into ss and σ. They hide in private-use code points meanwhile.
var (
	keepDeviations    = strings.NewReplacer("ß", "\ue000", "ς", "\ue001")
	restoreDeviations = strings.NewReplacer("\ue000", "ß", "\ue001", "ς")
)

// idnaMap approximates the UTS #46 mapping browsers apply to host names:
// NFKC_Casefold (compatibility forms, full case folding, default-ignorable
// code points removed) with the deviations ß and ς kept.
func idnaMap(s string) string {
	s = norm.NFKC.String(strings.Map(dropIgnorable, s))
	s = restoreDeviations.Replace(cases.Fold().String(keepDeviations.Replace(s)))
	return norm.NFKC.String(s)
}

// dropIgnorable removes what IDNA mapping ignores (soft hyphen, zero-width
// space, joiners, variation selectors, BOM): "evil\u00ad.example" is
// evil.example to a browser, so it must be to the block list too.
func dropIgnorable(r rune) rune {
	if IsIgnorable(r) {
		return -1
	}
	return r
}

// IsIgnorable reports whether r is a default-ignorable code point: invisible,
// and dropped from host names.
func IsIgnorable(r rune) bool {
	return r >= 0x80 && (unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r))
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// validDomain checks the shape of a lower-case ASCII name: labels of 1 to
// 63 letters, digits, "-" or "_". It is lenient about hyphen positions on
// purpose: a link checker that drops odd names lets them through.
func validDomain(s string) bool {
	if s == "" || len(s) > maxDomainLength {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// CheckLinks applies LINK-BLOCK: no link may point to a blocked domain or
// any of its subdomains ("example.com" blocks "www.example.com", not
// "badexample.com"). hosts are the links' host names and blocked the block
// list, both normalized by NormalizeDomain. A sorted block list (as the
// store keeps it) is searched without copying.
func CheckLinks(hosts []string, blocked []string) Decision {
	if len(hosts) == 0 || len(blocked) == 0 {
		return Allowed
	}
	if !slices.IsSorted(blocked) {
		blocked = slices.Sorted(slices.Values(blocked))
	}
	for _, h := range hosts {
		if n, ok := NormalizeDomain(h); ok {
			h = n
		} else {
			h = strings.ToLower(strings.TrimSuffix(h, "."))
		}
		if d, ok := blockedBy(h, blocked); ok {
			return Deny(LinkBlock, "Links auf %s sind gesperrt (Link auf %s).", d, h)
		}
	}
	return Allowed
}

// blockedBy returns the entry of blocked that covers host: the host itself
// or one of its parent domains.
func blockedBy(host string, blocked []string) (string, bool) {
	if isIP(host) { // an address has no parent domains
		_, found := slices.BinarySearch(blocked, host)
		return host, found
	}
	for s := host; s != ""; {
		if _, found := slices.BinarySearch(blocked, s); found && (s == host || !isIP(s)) {
			return s, true
		}
		i := strings.IndexByte(s, '.')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	return "", false
}
