package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// caldavLib returns a Python that imports caldav (Debian's python3-caldav
// is in /usr/bin/python3's path, which a pyenv shim earlier in PATH
// hides); it skips without one, except in CI.
func caldavLib(t *testing.T) string {
	t.Helper()
	var err error
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if err = exec.Command(py, "-c", "import caldav").Run(); err == nil {
			return py
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("python3-caldav is required in CI: %v", err)
	}
	t.Skip("python3-caldav not installed")
	return ""
}

// TestCalDAVClient drives Python's caldav library (a real CalDAV client)
// through discovery from the server root, listing, create, edit, a date
// range query and delete, then checks the history the store kept.
func TestCalDAVClient(t *testing.T) {
	py := caldavLib(t)
	e := newPortalEnv(t, nil)
	teacher := e.user("Tina", "Lehrer", policy.Teacher, false, "5a", "6b")
	e.user("Max", "Schüler", policy.Student, false, "5a")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	script, _ := filepath.Abs(filepath.Join("testdata", "caldav_client.py"))
	cmd := exec.CommandContext(ctx, py, script, e.base, teacher, testPW, "Gruppe 5a")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("caldav client: %v\n%s", err, stderr.String())
	}
	var got struct {
		Principal    string   `json:"principal"`
		Calendars    []string `json:"calendars"`
		CalendarURL  string   `json:"calendar_url"`
		AttendeeKept bool     `json:"attendee_kept"`
		December     []string `json:"december"`
		AfterDelete  []string `json:"after_delete"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client output %q: %v", out, err)
	}
	if !strings.HasSuffix(got.Principal, "/caldav/"+teacher+"/") {
		t.Errorf("principal %q", got.Principal)
	}
	if fmt.Sprint(got.Calendars) != "[Gruppe 5a Gruppe 6b]" {
		t.Errorf("calendars %v", got.Calendars)
	}
	if got.AttendeeKept {
		t.Error("ATTENDEE (an address the calendar does not keep) came back")
	}
	if fmt.Sprint(got.December) != "[Elternabend (Raum 12)]" {
		t.Errorf("December query: %v", got.December)
	}
	if fmt.Sprint(got.AfterDelete) != "[Elternabend (Raum 12)]" {
		t.Errorf("after delete: %v", got.AfterDelete)
	}

	// The history: the edit did not overwrite the first version, the
	// delete left a tombstone with its author.
	revs, err := e.st.CalendarRevisions("5a", "elternabend-1")
	if err != nil || len(revs) != 2 || revs[0].Action != store.CalCreated || revs[1].Action != store.CalEdited ||
		revs[0].Title != "Elternabend" || revs[1].Title != "Elternabend (Raum 12)" || revs[1].By != teacher {
		t.Fatalf("history of the edited entry: %v %+v", err, revs)
	}
	revs, err = e.st.CalendarRevisions("5a", "wandertag-1")
	if err != nil || len(revs) != 2 || revs[1].Action != store.CalDeleted || revs[1].By != teacher {
		t.Fatalf("history of the deleted entry: %v %+v", err, revs)
	}
}

// TestCalDAVRefusals: a pupil cannot write where the group does not allow
// it (CAL-WRITE), cannot see another group's calendar, an oversized
// object is refused (calendar_object_bytes), a sub-daily RRULE is
// refused (CAL-DATA), a stale If-Match fails; .well-known leads to the
// principal.
func TestCalDAVRefusals(t *testing.T) {
	e := newPortalEnv(t, nil)
	teacher := e.user("Tina", "Lehrer", policy.Teacher, false, "5a")
	pupil := e.user("Max", "Schüler", policy.Student, false, "5a")
	other := e.user("Ole", "Anders", policy.Student, false, "6b")
	ics := func(uid, rrule string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//DE\r\nBEGIN:VEVENT\r\nUID:" + uid +
			"\r\nDTSTAMP:20261201T120000Z\r\nDTSTART:20261210T170000Z\r\nDTEND:20261210T180000Z\r\nSUMMARY:Test\r\n" + rrule + "END:VEVENT\r\nEND:VCALENDAR\r\n"
	}
	ct := map[string]string{"Content-Type": "text/calendar; charset=utf-8"}
	url := func(user, uid string) string { return e.base + "/caldav/" + user + "/gruppen/5a/" + uid + ".ics" }

	resp, body := davReq(t, "PUT", url(pupil, "p1"), pupil, ics("p1", ""), ct)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[CAL-WRITE]") {
		t.Errorf("pupil PUT: %d %q", resp.StatusCode, body)
	}
	if err := e.st.SetCalendarMembersWrite("5a", true); err != nil {
		t.Fatal(err)
	}
	resp, body = davReq(t, "PUT", url(pupil, "p1"), pupil, ics("p1", ""), ct)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("ETag") == "" {
		t.Fatalf("pupil PUT once the group allows it: %d %q", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	resp, body = davReq(t, "GET", e.base+"/caldav/"+other+"/gruppen/5a/p1.ics", other, "", nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "[CAL-MEMBER]") {
		t.Errorf("another group's pupil GET: %d %q", resp.StatusCode, body)
	}
	resp, body = davReq(t, "PUT", url(pupil, "p1"), pupil, ics("p1", ""), map[string]string{"Content-Type": "text/calendar", "If-Match": `"1-0000"`})
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d %q", resp.StatusCode, body)
	}
	resp, _ = davReq(t, "PUT", url(pupil, "p1"), pupil, ics("p1", ""), map[string]string{"Content-Type": "text/calendar", "If-Match": etag})
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("right If-Match: %d", resp.StatusCode)
	}
	resp, body = davReq(t, "PUT", url(teacher, "r1"), teacher, ics("r1", "RRULE:FREQ=SECONDLY\r\n"), ct)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "[CAL-DATA]") {
		t.Errorf("sub-daily RRULE: %d %q", resp.StatusCode, body)
	}
	big := ics("big", "DESCRIPTION:"+strings.Repeat("x", int(e.pol.Bound(policy.CalendarObjectBytes)))+"\r\n")
	resp, body = davReq(t, "PUT", url(teacher, "big"), teacher, big, ct)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "[LIMIT-CALENDAR]") || !strings.Contains(body, "calendar_object_bytes") {
		t.Errorf("oversized object: %d %q", resp.StatusCode, body)
	}
	resp, body = davReq(t, "PUT", url(teacher, "long"), teacher, ics("long", "DESCRIPTION:"+strings.Repeat("y", 4001)+"\r\n"), ct)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "calendar_description_bytes") {
		t.Errorf("long description: %d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("PROPFIND", e.base+"/.well-known/caldav", nil)
	req.SetBasicAuth(teacher, testPW)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/caldav/"+teacher+"/" {
		t.Errorf(".well-known/caldav: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = davReq(t, "PROPFIND", e.base+"/caldav/", teacher+"x", "", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", resp.StatusCode)
	}
	// calendar-multiget, as Thunderbird fetches changed objects.
	href := "/caldav/" + teacher + "/gruppen/5a/p1.ics"
	resp, body = davReq(t, "REPORT", e.base+"/caldav/"+teacher+"/gruppen/5a/", teacher, `<?xml version="1.0"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>
<D:href>`+href+`</D:href><D:href>/caldav/`+teacher+`/gruppen/5a/gibtsnicht.ics</D:href></C:calendar-multiget>`,
		map[string]string{"Content-Type": "application/xml", "Depth": "1"})
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, "UID:p1") || !strings.Contains(body, "404") {
		t.Errorf("multiget: %d %s", resp.StatusCode, body)
	}
	// DELETE with a stale ETag keeps the entry; with the right one it goes.
	resp, _ = davReq(t, "DELETE", url(teacher, "p1"), teacher, "", map[string]string{"If-Match": `"1-0000"`})
	if resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("DELETE with a stale If-Match: %d", resp.StatusCode)
	}
	cur, _ := e.st.CalendarEntry("5a", "p1")
	resp, _ = davReq(t, "DELETE", url(teacher, "p1"), teacher, "", map[string]string{"If-Match": `"` + cur.ETag() + `"`})
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	revs, _ := e.st.CalendarRevisions("5a", "p1")
	if len(revs) != 3 || revs[0].By != pupil || revs[2].Action != store.CalDeleted || revs[2].By != teacher {
		t.Errorf("pupil's entry history: %+v", revs)
	}
}

func davReq(t *testing.T, method, url, user, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.SetBasicAuth(user, testPW)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestCalDAVLoginRules: CalDAV logins go through internal/auth like
// WebDAV's: wrong passwords are throttled (AUTH-THROTTLE), the login log
// records them, and the calendar module switched off for the account's
// groups refuses the login (MODULE-OFF).
func TestCalDAVLoginRules(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	pol := policy.NewEngine()
	v := auth.New(st, auth.Options{Domain: "schule.test", FailuresPerAccount: 2, FailuresPerIP: 100, Logger: logger,
		Modules: map[policy.Module]policy.ModuleSetting{policy.ModuleCalendar: {On: true, Groups: []string{"5a"}}}})
	defer v.Close()
	svc := &admin.Service{Store: st, Policy: pol, Domain: "schule.test", DefaultConsentComms: true}
	mk := func(first, group string) string {
		c, err := svc.AddUser("test", admin.NewUser{First: first, Last: "Test", Role: policy.Student, Groups: []string{group}, Password: testPW})
		if err != nil {
			t.Fatal(err)
		}
		st.UpdateAccount(c.Account.Name, func(a *store.Account) error { a.MustChange = false; return nil })
		return c.Account.Name
	}
	in5a, in6b := mk("Anna", "5a"), mk("Bert", "6b")
	srv := New(Options{Store: st, Auth: v, Policy: pol, Logger: logger})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())
	base := "http://" + ln.Addr().String()
	propfind := func(user, pw string) (*http.Response, string) {
		req, _ := http.NewRequest("PROPFIND", base+"/caldav/", nil)
		req.SetBasicAuth(user, pw)
		req.Header.Set("Depth", "0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if resp, _ := propfind(in5a, testPW); resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("member of 5a: %d", resp.StatusCode)
	}
	if resp, body := propfind(in6b, testPW); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[MODULE-OFF]") {
		t.Errorf("module off for 6b: %d %q", resp.StatusCode, body)
	}
	var last *http.Response
	var body string
	for range 4 {
		last, body = propfind(in5a, "falsch")
	}
	if last.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "[AUTH-THROTTLE]") {
		t.Errorf("after wrong passwords: %d %q", last.StatusCode, body)
	}
	v.Flush()
	recs, err := st.LoginLog(in5a, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range recs {
		if r.Protocol == "caldav" && !r.OK {
			failed++
		}
	}
	if failed < 2 {
		t.Errorf("login log: %d failed caldav logins of %d records", failed, len(recs))
	}
}

// TestCalDAVRevisionBound: every revision is kept, so an entry with
// calendar_revisions_per_entry revisions takes no more edits
// (LIMIT-CALENDAR); deleting it still works and is recorded.
func TestCalDAVRevisionBound(t *testing.T) {
	e := newPortalEnv(t, nil)
	if err := e.pol.SetBound(policy.CalendarRevisions, 2); err != nil {
		t.Fatal(err)
	}
	teacher := e.user("Tina", "Lehrer", policy.Teacher, false, "5a")
	url := e.base + "/caldav/" + teacher + "/gruppen/5a/r.ics"
	ct := map[string]string{"Content-Type": "text/calendar"}
	put := func(summary string) (*http.Response, string) {
		return davReq(t, "PUT", url, teacher, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//DE\r\nBEGIN:VEVENT\r\nUID:r\r\n"+
			"DTSTAMP:20261201T120000Z\r\nDTSTART:20261210T170000Z\r\nSUMMARY:"+summary+"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", ct)
	}
	for _, s := range []string{"eins", "zwei"} {
		if resp, body := put(s); resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", s, resp.StatusCode, body)
		}
	}
	if resp, body := put("drei"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "calendar_revisions_per_entry") {
		t.Errorf("third revision: %d %q", resp.StatusCode, body)
	}
	if resp, _ := davReq(t, "DELETE", url, teacher, "", nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	if revs, _ := e.st.CalendarRevisions("5a", "r"); len(revs) != 3 || revs[1].Title != "zwei" || revs[2].Action != store.CalDeleted {
		t.Errorf("revisions: %+v", revs)
	}
}
