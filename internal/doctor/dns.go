package doctor

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
)

// SRVWant is an SRV record clients look for (RFC 6186): the service and
// the public port; Port < 0: the listener is off, nothing is expected.
type SRVWant struct {
	Service string // "submission", "imaps"
	Port    int
}

// checkDNS looks up autoconfig.<domain> and the SRV records; each missing
// or wrong record is a WARNUNG naming the record to add (clients can still
// be set up by hand).
func checkDNS(ctx context.Context, r *net.Resolver, domain, host string, srvs []SRVWant) []Finding {
	const check = "dns"
	var out []Finding
	auto := "autoconfig." + domain
	if addrs, err := r.LookupHost(ctx, auto); err != nil || len(addrs) == 0 {
		out = append(out, dnsMissing(check, err, "dns.noautoconfig", auto, fqdn(auto)+" IN CNAME "+fqdn(host)))
	} else {
		out = append(out, finding(check, OK, "dns.autoconfig", auto, list(addrs, 3)))
	}
	for _, w := range srvs {
		if w.Port < 0 {
			continue
		}
		name := "_" + w.Service + "._tcp." + domain
		record := fqdn(name) + " IN SRV 0 1 " + strconv.Itoa(w.Port) + " " + fqdn(host)
		_, recs, err := r.LookupSRV(ctx, w.Service, "tcp", domain)
		if err != nil || len(recs) == 0 {
			out = append(out, dnsMissing(check, err, "dns.nosrv", name, record))
			continue
		}
		var seen []string
		match := false
		for _, rec := range recs {
			seen = append(seen, strconv.Itoa(int(rec.Port))+" "+rec.Target)
			match = match || (int(rec.Port) == w.Port && strings.EqualFold(strings.TrimSuffix(rec.Target, "."), host))
		}
		if match {
			out = append(out, finding(check, OK, "dns.srv", name, list(seen, 3)))
		} else {
			out = append(out, finding(check, Warn, "dns.srvwrong", name, list(seen, 3), record))
		}
	}
	return out
}

// dnsMissing tells "no such record" (add it) from a failed lookup (the
// resolver is the problem).
func dnsMissing(check string, err error, key, name, record string) Finding {
	var de *net.DNSError
	if err != nil && errors.As(err, &de) && !de.IsNotFound {
		return finding(check, Warn, "dns.failed", name, err)
	}
	return finding(check, Warn, key, name, record)
}

func fqdn(s string) string { return strings.TrimSuffix(s, ".") + "." }
