package admin

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"schulhof/policy"
	"schulhof/store"
)

// BlocklistResult says what a block list change did.
type BlocklistResult struct {
	Added     []string `json:"added"`
	Removed   []string `json:"removed"`
	Unchanged []string `json:"unchanged"` // already on (add) or not on (remove) the list
	Lines     int      `json:"lines,omitempty"`
}

func newBlocklistResult() BlocklistResult {
	return BlocklistResult{Added: []string{}, Removed: []string{}, Unchanged: []string{}}
}

// maxBlocklistImport bounds an import file (a large public list has a few
// hundred thousand lines, well below this).
const maxBlocklistImport = 32 << 20

// BlocklistList returns the LINK-BLOCK list, sorted.
func (s *Service) BlocklistList() ([]string, error) {
	l, err := s.Store.Blocklist()
	return slices.Clone(l), err // the store's slice is shared
}

// BlocklistAdd blocks domains (and with them their subdomains) for links
// in mail and chat. Every domain is checked first: one bad name adds none.
func (s *Service) BlocklistAdd(actor string, domains []string) (BlocklistResult, error) {
	norm, errs := s.normalizeDomains(domains)
	if len(errs) > 0 {
		return newBlocklistResult(), blocklistErrors(errs)
	}
	return s.blocklistAdd(actor, "blocklist.add", norm, 0)
}

// BlocklistRemove unblocks domains. It removes only the entries named:
// removing "www.example.com" leaves "example.com" blocked.
func (s *Service) BlocklistRemove(actor string, domains []string) (BlocklistResult, error) {
	res := newBlocklistResult()
	norm, errs := s.normalizeDomains(domains)
	if len(errs) > 0 {
		return res, blocklistErrors(errs)
	}
	err := s.Store.Update(func(t *store.Tx) error {
		removed, err := t.RemoveBlockedDomains(norm...)
		if err != nil {
			return err
		}
		res.Removed = append(res.Removed, removed...)
		res.Unchanged = blocklistMinus(norm, removed)
		return t.Audit(store.AuditRecord{Actor: actor, Action: "blocklist.remove",
			Target: blocklistSummary(removed), Detail: fmt.Sprintf("removed=%d not-listed=%d", len(removed), len(res.Unchanged))})
	})
	return res, err
}

// BlocklistImport adds the domains of a block list file: one domain a
// line, "#" starts a comment, blank lines are skipped; hosts-file lines
// ("0.0.0.0 ads.example") are read too. A file with any bad line adds
// nothing and every bad line is reported with its number.
func (s *Service) BlocklistImport(actor string, data []byte) (BlocklistResult, error) {
	if len(data) > maxBlocklistImport {
		return newBlocklistResult(), fmt.Errorf("block list file too large (%d bytes, at most %d)", len(data), maxBlocklistImport)
	}
	var domains []string
	var errs []error
	for i, line := range strings.Split(string(data), "\n") {
		d, ok, err := blocklistLine(line)
		if err == nil && ok {
			d, err = s.normalizeDomain(d)
			domains = append(domains, d)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", i+1, err))
		}
	}
	if len(errs) > 0 {
		return newBlocklistResult(), &ImportError{Lines: errs}
	}
	return s.blocklistAdd(actor, "blocklist.import", domains, len(domains))
}

func (s *Service) blocklistAdd(actor, action string, domains []string, lines int) (BlocklistResult, error) {
	res := newBlocklistResult()
	res.Lines = lines
	err := s.Store.Update(func(t *store.Tx) error {
		added, err := t.AddBlockedDomains(domains...)
		if err != nil {
			return err
		}
		res.Added = append(res.Added, added...)
		res.Unchanged = blocklistMinus(domains, added)
		detail := fmt.Sprintf("added=%d already-listed=%d", len(added), len(res.Unchanged))
		if lines > 0 {
			detail += fmt.Sprintf(" lines=%d", lines)
		}
		return t.Audit(store.AuditRecord{Actor: actor, Action: action, Target: blocklistSummary(added), Detail: detail})
	})
	return res, err
}

// blocklistLine reads one line of an import file: the domain, whether the
// line holds one, or why it is bad.
func blocklistLine(line string) (string, bool, error) {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(line)
	switch {
	case len(f) == 0:
		return "", false, nil
	case len(f) == 1:
		return f[0], true, nil
	case len(f) == 2 && blocklistIsIP(f[0]): // hosts file: "0.0.0.0 ads.example"
		if blocklistIsIP(f[1]) || blocklistHostsSelf[f[1]] {
			return "", false, nil
		}
		return f[1], true, nil
	}
	return "", false, fmt.Errorf("one domain a line, got %q", strings.TrimSpace(line))
}

// blocklistHostsSelf are the names a hosts file maps for the machine itself.
var blocklistHostsSelf = map[string]bool{"localhost": true, "localhost.localdomain": true, "local": true,
	"broadcasthost": true, "ip6-localhost": true, "ip6-loopback": true}

func blocklistIsIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// normalizeDomains normalizes admin input (see normalizeDomain) and
// reports every bad name.
func (s *Service) normalizeDomains(in []string) ([]string, []error) {
	if len(in) == 0 {
		return nil, []error{fmt.Errorf("no domain given")}
	}
	var out []string
	var errs []error
	for _, d := range in {
		n, err := s.normalizeDomain(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, n)
	}
	return out, errs
}

// normalizeDomain refuses names that are no domain or that would block
// the school's own domain (and with it every internal link).
func (s *Service) normalizeDomain(d string) (string, error) {
	n, ok := policy.NormalizeDomain(d)
	if !ok {
		return "", fmt.Errorf("%q is not a domain name", d)
	}
	if own, _ := policy.NormalizeDomain(s.Domain); own != "" && (own == n || strings.HasSuffix(own, "."+n)) {
		return "", fmt.Errorf("%q would block the school's own domain %s", d, own)
	}
	return n, nil
}

// blocklistMinus returns the elements of all not in some, once each, in order.
func blocklistMinus(all, some []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range some {
		seen[s] = true
	}
	for _, a := range all {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// blocklistSummary keeps audit records short for large imports.
func blocklistSummary(domains []string) string {
	const show = 20
	if len(domains) <= show {
		return strings.Join(domains, ",")
	}
	return fmt.Sprintf("%s,… (+%d more)", strings.Join(domains[:show], ","), len(domains)-show)
}

// blocklistErrors makes one error of several, one per line.
func blocklistErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("%d problems, nothing changed:\n  %s", len(errs), strings.Join(msgs, "\n  "))
}
