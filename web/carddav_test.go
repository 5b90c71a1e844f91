package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/carddav"

	"schulhof/policy"
	"schulhof/store"
)

// cardClient is go-webdav's CardDAV client logged in as name.
func (e *portalEnv) cardClient(name, pw string) *carddav.Client {
	e.t.Helper()
	c, err := carddav.NewClient(webdav.HTTPClientWithBasicAuth(http.DefaultClient, name, pw), e.base+"/carddav/")
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// davRequest sends one raw request with Basic auth and returns status and body.
func (e *portalEnv) davRequest(method, path, user, body string, hdr map[string]string) (int, string, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, testPW)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// cardSchool is a teacher, a pupil with a nickname and a birth date, and
// a second pupil, in two groups.
func cardSchool(e *portalEnv) (teacher, max, lena string) {
	teacher = e.user("Anna", "Lehrer", policy.Teacher, false, "5a")
	max = e.user("Max", "Müller", policy.Student, false, "5a")
	lena = e.user("Lena", "Schmidt", policy.Student, false, "6b")
	if _, err := e.st.UpdateAccount(max, func(a *store.Account) error {
		a.Nickname, a.BirthDate, a.Color = "Maxi", "2014-03-01", "#aa0000"
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return
}

// TestCardDAVDiscoveryAndCards: go-webdav's client finds the principal,
// the home set and the one address book from the context path; the
// well-known URL leads there; every account has one card with exactly
// name, address, groups and nickname (and VERSION, UID, FN, N).
func TestCardDAVDiscoveryAndCards(t *testing.T) {
	e := newPortalEnv(t, nil)
	teacher, max, lena := cardSchool(e)
	ctx := context.Background()

	code, _, hdr := e.davRequest("PROPFIND", "/.well-known/carddav", "", "", map[string]string{"Depth": "0"})
	if code != http.StatusMovedPermanently || hdr.Get("Location") != "/carddav/" {
		t.Fatalf("well-known: %d %q", code, hdr.Get("Location"))
	}

	c := e.cardClient(lena, testPW)
	principal, err := c.FindCurrentUserPrincipal(ctx)
	if err != nil || principal != "/carddav/"+lena+"/" {
		t.Fatalf("principal %q %v", principal, err)
	}
	home, err := c.FindAddressBookHomeSet(ctx, principal)
	if err != nil || home != "/carddav/"+lena+"/adressbuecher/" {
		t.Fatalf("home set %q %v", home, err)
	}
	books, err := c.FindAddressBooks(ctx, home)
	if err != nil || len(books) != 1 || books[0].Path != home+"schule/" {
		t.Fatalf("books %+v %v", books, err)
	}
	book := books[0].Path
	objs, err := c.QueryAddressBook(ctx, book, &carddav.AddressBookQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]carddav.AddressObject{}
	for _, o := range objs {
		byName[strings.TrimSuffix(strings.TrimPrefix(o.Path, book), ".vcf")] = o
	}
	if len(objs) != 3 || byName[teacher].Path == "" || byName[max].Path == "" || byName[lena].Path == "" {
		t.Fatalf("cards: %d %v", len(objs), objs)
	}
	m := byName[max].Card
	checkFields(t, m, "CATEGORIES", "EMAIL", "FN", "N", "NICKNAME", "UID", "VERSION")
	if m.Value(vcard.FieldFormattedName) != "Max Müller" || m.Name().GivenName != "Max" || m.Name().FamilyName != "Müller" ||
		m.Value(vcard.FieldEmail) != max+"@schule.test" || m.Value(vcard.FieldNickname) != "Maxi" ||
		m.Value(vcard.FieldCategories) != "5a" || m.Value(vcard.FieldVersion) != "3.0" || !strings.HasPrefix(m.Value(vcard.FieldUID), "urn:uuid:") {
		t.Fatalf("max's card: %v", m)
	}
	checkFields(t, byName[lena].Card, "CATEGORIES", "EMAIL", "FN", "N", "UID", "VERSION") // no nickname chosen
	if byName[max].ETag == "" || byName[max].ETag == byName[lena].ETag {
		t.Fatalf("etags %q %q", byName[max].ETag, byName[lena].ETag)
	}

	// The same cards one by one (multiget) and by GET.
	got, err := c.MultiGetAddressBook(ctx, book, &carddav.AddressBookMultiGet{
		Paths: []string{book + max + ".vcf", book + teacher + ".vcf"}, DataRequest: carddav.AddressDataRequest{AllProp: true}})
	if err != nil || len(got) != 2 || got[0].ETag != byName[max].ETag || got[0].Card.Value(vcard.FieldNickname) != "Maxi" {
		t.Fatalf("multiget %v %v", got, err)
	}
	one, err := c.GetAddressObject(ctx, book+max+".vcf")
	if err != nil || one.ETag != byName[max].ETag || one.Card.Value(vcard.FieldUID) != m.Value(vcard.FieldUID) {
		t.Fatalf("get %v %v", one, err)
	}
	// A plain WebDAV listing (go-webdav's webdav client) gets sizes and
	// the same ETags.
	wc, err := webdav.NewClient(webdav.HTTPClientWithBasicAuth(http.DefaultClient, lena, testPW), e.base)
	if err != nil {
		t.Fatal(err)
	}
	list, err := wc.ReadDir(ctx, book, false)
	files := 0
	for _, f := range list {
		if !f.IsDir {
			files++
			if f.Size < 100 || f.ETag != byName[strings.TrimSuffix(strings.TrimPrefix(f.Path, book), ".vcf")].ETag {
				t.Fatalf("listing: %+v", f)
			}
		}
	}
	if err != nil || files != 3 {
		t.Fatalf("listing: %v %v", list, err)
	}
	// The whole discovery and sync was one login (one line in the login
	// log), not one per request.
	e.auth.Flush()
	recs, err := e.st.LoginLog(lena, time.Time{})
	carddavLogins := 0
	for _, r := range recs {
		if r.Protocol == "carddav" {
			carddavLogins++
		}
	}
	if err != nil || carddavLogins != 1 {
		t.Fatalf("login log: %d carddav logins %v (%v)", carddavLogins, recs, err)
	}
	// Nothing of the birth date, colour, role or login data in the bytes.
	_, raw, _ := e.davRequest("GET", book+max+".vcf", lena, "", nil)
	for _, bad := range []string{"2014", "BDAY", "aa0000", "student", "argon", "ROLE", "NOTE"} {
		if strings.Contains(raw, bad) {
			t.Fatalf("card shows %q:\n%s", bad, raw)
		}
	}
}

func checkFields(t *testing.T, c vcard.Card, want ...string) {
	t.Helper()
	var got []string
	for k := range c {
		got = append(got, k)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
}

// TestCardDAVETagFollowsTheAccount: a nickname or a group change changes
// that card's ETag and no other; vCard 4.0 is served when a REPORT asks
// for it, with the same ETag.
func TestCardDAVETagFollowsTheAccount(t *testing.T) {
	e := newPortalEnv(t, nil)
	teacher, max, lena := cardSchool(e)
	ctx := context.Background()
	c := e.cardClient(teacher, testPW)
	book := "/carddav/" + teacher + "/adressbuecher/schule/"
	etags := func() map[string]string {
		objs, err := c.QueryAddressBook(ctx, book, &carddav.AddressBookQuery{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, o := range objs {
			out[o.Path] = o.ETag
		}
		return out
	}
	before := etags()
	if _, err := e.st.UpdateAccount(max, func(a *store.Account) error { a.Nickname = "Der Max"; return nil }); err != nil {
		t.Fatal(err)
	}
	after := etags()
	for p := range before {
		if changed := before[p] != after[p]; changed != (p == book+max+".vcf") {
			t.Fatalf("%s: etag %q → %q", p, before[p], after[p])
		}
	}
	if _, err := e.st.AddToGroup("5a", store.AsMember, lena); err != nil {
		t.Fatal(err)
	}
	third := etags()
	if third[book+lena+".vcf"] == after[book+lena+".vcf"] || third[book+max+".vcf"] != after[book+max+".vcf"] {
		t.Fatalf("group change: %v → %v", after, third)
	}
	// A lock changes nothing the card shows: the card stays, as on the
	// portal's page (the address still receives mail).
	if err := e.svc.Lock("test", lena, "Test"); err != nil {
		t.Fatal(err)
	}
	if fourth := etags(); fourth[book+lena+".vcf"] != third[book+lena+".vcf"] || len(fourth) != 3 {
		t.Fatalf("locked account: %v → %v", third, fourth)
	}

	report := `<?xml version="1.0"?><C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">
<D:prop><D:getetag/><C:address-data content-type="text/vcard" version="4.0"/></D:prop><D:href>` + book + max + `.vcf</D:href></C:addressbook-multiget>`
	code, body, _ := e.davRequest("REPORT", book, teacher, report, map[string]string{"Content-Type": "application/xml"})
	if code != http.StatusMultiStatus || !strings.Contains(body, "VERSION:4.0") || !strings.Contains(body, third[book+max+".vcf"]) ||
		strings.Contains(body, "TYPE=INTERNET") {
		t.Fatalf("vCard 4.0 multiget: %d %s", code, body)
	}
}

// TestCardDAVReadOnly: every write names ADDRESSBOOK-READONLY in a 403,
// and nothing changes.
func TestCardDAVReadOnly(t *testing.T) {
	e := newPortalEnv(t, nil)
	teacher, max, _ := cardSchool(e)
	book := "/carddav/" + teacher + "/adressbuecher/schule/"
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:Evil\r\nN:Evil;;;;\r\nEND:VCARD\r\n"
	for _, tc := range []struct{ method, path, body string }{
		{"PUT", book + max + ".vcf", card},
		{"PUT", book + "new.vcf", card},
		{"DELETE", book + max + ".vcf", ""},
		{"DELETE", book, ""},
		{"PROPPATCH", book, `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`},
		{"MKCOL", "/carddav/" + teacher + "/adressbuecher/neu/", ""},
		{"MOVE", book + max + ".vcf", ""},
		{"COPY", book + max + ".vcf", ""},
		{"LOCK", book + max + ".vcf", ""},
	} {
		code, body, _ := e.davRequest(tc.method, tc.path, teacher, tc.body, map[string]string{"Content-Type": "text/vcard", "Destination": e.base + book + "x.vcf"})
		if code != http.StatusForbidden || !strings.Contains(body, string(policy.AddressBookReadOnly)) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, code, body)
		}
	}
	c := e.cardClient(teacher, testPW)
	if _, err := c.PutAddressObject(context.Background(), book+"neu.vcf", vcard.Card{"VERSION": {{Value: "3.0"}}, "FN": {{Value: "X"}}}); err == nil {
		t.Fatal("client PUT accepted")
	}
	code, _, hdr := e.davRequest("OPTIONS", book, teacher, "", nil)
	if code != http.StatusOK || strings.Contains(hdr.Get("Allow"), "PUT") || !strings.Contains(hdr.Get("DAV"), "addressbook") {
		t.Fatalf("OPTIONS: %d %v", code, hdr)
	}
	if a, _ := e.st.Account(max); a.Nickname != "Maxi" {
		t.Fatalf("card changed: %+v", a)
	}
	if n := e.counter("schulhof_refusals_total", map[string]string{"protocol": "carddav", "rule": "ADDRESSBOOK-READONLY"}); n != 10 { // nine above, the client's PUT
		t.Fatalf("read-only refusals counted: %v, want 10", n)
	}
}

// TestCardDAVRefusals: login rules (AUTH-FAILED, ACCOUNT-LOCKED,
// MODULE-OFF), another's principal, and the bounds on what a client
// sends (xml_body_bytes, carddav_query_filters).
func TestCardDAVRefusals(t *testing.T) {
	e := newPortalEnv(t, func(po *PortalOptions) {
		po.Modules = map[policy.Module]policy.ModuleSetting{policy.ModuleAddressBook: {On: true, Groups: []string{"5a"}}}
	})
	teacher, max, lena := cardSchool(e)
	book := "/carddav/" + teacher + "/adressbuecher/schule/"
	propfind := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`

	if code, _, hdr := e.davRequest("PROPFIND", book, "", propfind, nil); code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") == "" {
		t.Fatalf("no credentials: %d", code)
	}
	req, _ := http.NewRequest("PROPFIND", e.base+book, strings.NewReader(propfind))
	req.SetBasicAuth(teacher, "wrong")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v %v", resp, err)
	}
	// Lena is in 6b only: the address book module is on for 5a.
	if code, body, _ := e.davRequest("PROPFIND", "/carddav/"+lena+"/", lena, propfind, map[string]string{"Depth": "0"}); code != http.StatusForbidden || !strings.Contains(body, string(policy.ModuleOff)) {
		t.Fatalf("module off: %d %s", code, body)
	}
	// Another's principal or book is not found.
	if code, _, _ := e.davRequest("PROPFIND", "/carddav/"+max+"/adressbuecher/schule/", teacher, propfind, map[string]string{"Depth": "1"}); code != http.StatusNotFound {
		t.Fatalf("another's book: %d", code)
	}
	if code, body, _ := e.davRequest("PROPFIND", book, teacher, propfind, map[string]string{"Depth": "1"}); code != http.StatusMultiStatus ||
		strings.Count(body, ".vcf</") != 3 || strings.Contains(body, "BEGIN:VCARD") {
		t.Fatalf("own book, ETags: %d %s", code, body)
	}
	// An allprop PROPFIND (empty body) gets the cards built.
	if code, body, _ := e.davRequest("PROPFIND", book, teacher, "", map[string]string{"Depth": "1"}); code != http.StatusMultiStatus ||
		strings.Count(body, "BEGIN:VCARD") != 3 {
		t.Fatalf("own book, allprop: %d %s", code, body)
	}

	// The XML bound: a REPORT over xml_body_bytes is refused unread.
	if err := e.pol.SetBound(policy.XMLBodyBytes, 2000); err != nil {
		t.Fatal(err)
	}
	big := `<?xml version="1.0"?><C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>` +
		strings.Repeat("<D:href>"+book+max+".vcf</D:href>", 50) + `</C:addressbook-multiget>`
	if code, body, _ := e.davRequest("REPORT", book, teacher, big, nil); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "xml_body_bytes") {
		t.Fatalf("big REPORT: %d %s", code, body)
	}
	if err := e.pol.SetBound(policy.XMLBodyBytes, 1_000_000); err != nil {
		t.Fatal(err)
	}
	// The filter bound: 51 prop-filters are refused, 50 are answered.
	query := func(n int) string {
		var f strings.Builder
		for i := range n {
			fmt.Fprintf(&f, `<C:prop-filter name="FN"><C:text-match>x%d</C:text-match></C:prop-filter>`, i)
		}
		return `<?xml version="1.0"?><C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter>` + f.String() + `</C:filter></C:addressbook-query>`
	}
	if code, body, _ := e.davRequest("REPORT", book, teacher, query(26), nil); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "carddav_query_filters") {
		t.Fatalf("many filters: %d %s", code, body)
	}
	if code, body, _ := e.davRequest("REPORT", book, teacher, query(25), nil); code != http.StatusMultiStatus {
		t.Fatalf("filters at the bound: %d %s", code, body)
	}
	_ = policy.CardDAVQueryFilters

	// A new password ends the session of the old one at once.
	if code, _, _ := e.davRequest("PROPFIND", book, teacher, propfind, map[string]string{"Depth": "0"}); code != http.StatusMultiStatus {
		t.Fatalf("before the password change: %d", code)
	}
	if _, err := e.st.UpdateAccount(teacher, func(a *store.Account) error { a.PasswordHash = "$argon2id$v=19$m=1024,t=1,p=1$AAAA$AAAA"; return nil }); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := e.davRequest("PROPFIND", book, teacher, propfind, map[string]string{"Depth": "0"}); code != http.StatusUnauthorized {
		t.Fatalf("old password after the change: %d", code)
	}

	// A locked account is refused, naming the rule.
	if err := e.svc.Lock("test", max, "Test"); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := e.davRequest("PROPFIND", "/carddav/"+max+"/", max, propfind, map[string]string{"Depth": "0"}); code != http.StatusForbidden || !strings.Contains(body, string(policy.AccountLocked)) {
		t.Fatalf("locked: %d %s", code, body)
	}
}

// TestCardDAVCollectionsSayReadOnly: the book tells clients it is
// read-only (current-user-privilege-set: read, no write) and has a CTag
// that changes with any card and only then.
func TestCardDAVCollectionsSayReadOnly(t *testing.T) {
	e := newPortalEnv(t, nil)
	teacher, max, lena := cardSchool(e)
	home := "/carddav/" + teacher + "/adressbuecher/"
	body := `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><d:resourcetype/><d:displayname/><d:current-user-privilege-set/><cs:getctag/></d:prop></d:propfind>`
	type propstat struct {
		Status     string `xml:"status"`
		Privileges []struct {
			Inner string `xml:",innerxml"`
		} `xml:"prop>current-user-privilege-set>privilege"`
		CTag        *string `xml:"http://calendarserver.org/ns/ prop>getctag"`
		DisplayName string  `xml:"prop>displayname"`
	}
	type multistatus struct {
		Responses []struct {
			Href      string     `xml:"href"`
			PropStats []propstat `xml:"propstat"`
		} `xml:"response"`
	}
	book := func() (privs []string, ctag string) {
		t.Helper()
		code, out, _ := e.davRequest("PROPFIND", home, teacher, body, map[string]string{"Depth": "1", "Content-Type": "text/xml"})
		var ms multistatus
		if err := xml.Unmarshal([]byte(out), &ms); code != http.StatusMultiStatus || err != nil || len(ms.Responses) != 2 {
			t.Fatalf("PROPFIND home: %d %v %s", code, err, out)
		}
		for _, r := range ms.Responses {
			for _, ps := range r.PropStats {
				if !strings.Contains(ps.Status, "200") {
					if len(ps.Privileges) > 0 || ps.CTag != nil && r.Href == home+"schule/" {
						t.Fatalf("%s: privileges or ctag not found: %s", r.Href, out)
					}
					continue
				}
				for _, p := range ps.Privileges {
					if r.Href == home+"schule/" {
						privs = append(privs, p.Inner)
					}
				}
				if ps.CTag != nil && r.Href == home+"schule/" {
					ctag = *ps.CTag
				}
			}
		}
		return
	}
	privs, ctag := book()
	if len(privs) != 2 || !strings.Contains(privs[0], "read") || strings.Contains(strings.Join(privs, ""), "write") || ctag == "" {
		t.Fatalf("privileges %v ctag %q", privs, ctag)
	}
	if _, err := e.st.UpdateAccount(max, func(a *store.Account) error { a.Nickname = "Neu"; return nil }); err != nil {
		t.Fatal(err)
	}
	_, ctag2 := book()
	if ctag2 == ctag || ctag2 == "" {
		t.Fatalf("ctag after a nickname change: %q → %q", ctag, ctag2)
	}
	if err := e.svc.Lock("test", lena, "Test"); err != nil {
		t.Fatal(err)
	}
	if _, ctag3 := book(); ctag3 != ctag2 {
		t.Fatalf("ctag after a lock: %q → %q", ctag2, ctag3)
	}
	// The library's own answers are untouched: go-webdav's client still
	// finds the book.
	books, err := e.cardClient(teacher, testPW).FindAddressBooks(context.Background(), home)
	if err != nil || len(books) != 1 || books[0].Name != "Schuladressbuch" {
		t.Fatalf("books %v %v", books, err)
	}
}

// TestCardDAVShowsWhatThePortalShows: each card's name, address, groups
// and nickname are on the portal's address book page, row for row, and
// the page and the book have the same number of people.
func TestCardDAVShowsWhatThePortalShows(t *testing.T) {
	e := newPortalEnv(t, nil)
	teacher, _, _ := cardSchool(e)
	b := e.browser()
	b.mustLogin(teacher)
	_, page := b.do("GET", "/adressbuch?teil=1", nil)
	rows := strings.Split(page, "<tr>")[1:]
	objs, err := e.cardClient(teacher, testPW).QueryAddressBook(context.Background(), "/carddav/"+teacher+"/adressbuecher/schule/",
		&carddav.AddressBookQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}})
	if err != nil || len(objs) != len(rows) || len(rows) != 3 {
		t.Fatalf("%d cards, %d rows (%v)", len(objs), len(rows), err)
	}
	for _, o := range objs {
		c := o.Card
		found := false
		for _, row := range rows {
			if !strings.Contains(row, "<td>"+c.Value(vcard.FieldFormattedName)+"</td>") {
				continue
			}
			found = strings.Contains(row, c.Value(vcard.FieldEmail)) && strings.Contains(row, "<td>"+c.Value(vcard.FieldNickname)+"</td>")
			for _, g := range c.Values(vcard.FieldCategories) {
				found = found && strings.Contains(row, ">"+g+"</a>")
			}
		}
		if !found {
			t.Fatalf("card %v not on the page:\n%s", c, page)
		}
	}
}
