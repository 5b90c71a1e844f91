package carddavd

import (
	"strings"
	"testing"
)

// FuzzScanReport: whatever a client sends as a REPORT body, the scan
// before the library neither panics nor finds more hrefs or filters than
// the body has elements. The seeds run as an ordinary test.
func FuzzScanReport(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0"?><C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data content-type="text/vcard" version="4.0"/></D:prop><D:href>/carddav/a/adressbuecher/schule/b.vcf</D:href></C:addressbook-multiget>`,
		`<C:addressbook-query xmlns:C="urn:ietf:params:xml:ns:carddav"><C:filter test="allof"><C:prop-filter name="FN"><C:text-match match-type="contains">x</C:text-match><C:param-filter name="TYPE"/></C:prop-filter></C:filter></C:addressbook-query>`,
		`<D:href xmlns:D="DAV:">%zz</D:href>`,
		`<<<`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rp := scanReport([]byte(body))
		if n := strings.Count(body, "<"); int(rp.filters) > n || len(rp.hrefs) > n {
			t.Fatalf("%d filters, %d hrefs from %d elements", rp.filters, len(rp.hrefs), n)
		}
	})
}

func TestScanReport(t *testing.T) {
	rp := scanReport([]byte(`<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><C:address-data version="4.0"/></D:prop>` +
		`<D:href>https://schule.test/carddav/a/adressbuecher/schule/b.vcf</D:href><D:href>/carddav/a/adressbuecher/schule/c%2Ed.vcf</D:href></C:addressbook-multiget>`))
	if !rp.v4 || len(rp.hrefs) != 2 || rp.hrefs[0] != "/carddav/a/adressbuecher/schule/b.vcf" || rp.hrefs[1] != "/carddav/a/adressbuecher/schule/c.d.vcf" {
		t.Fatalf("%+v", rp)
	}
	if rp := scanReport([]byte(`<C:address-data xmlns:C="urn:ietf:params:xml:ns:carddav" version="3.0"/>`)); rp.v4 {
		t.Fatal("3.0 read as 4.0")
	}
}
