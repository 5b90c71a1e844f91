package web

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"schulhof/internal/calendar"
	"schulhof/policy"
)

var entryLinkRE = regexp.MustCompile(`/kalender/5a/eintrag/([0-9a-f]+)`)

// TestPortalCalendarEntryHistory: a teacher creates and changes an entry
// in the portal; the entry page shows who made and who last changed it,
// and the history keeps both versions. A pupil cannot write (CAL-WRITE)
// until the group allows it; a POST without the form token is refused.
func TestPortalCalendarEntryHistory(t *testing.T) {
	e := newPortalEnv(t, nil)
	teacher := e.user("Tina", "Lehrer", policy.Teacher, false, "5a")
	pupil := e.user("Max", "Schüler", policy.Student, false, "5a")
	tb := e.browser()
	tb.mustLogin(teacher)
	day := time.Now().Format("2006-01-02")
	form := func(tok, title string) url.Values {
		return url.Values{"csrf": {tok}, "title": {title}, "start_date": {day}, "start_time": {"10:00"},
			"end_date": {day}, "end_time": {"11:30"}, "location": {"Aula"}, "description": {"Bitte pünktlich"}}
	}
	resp, _ := tb.do("POST", "/kalender/5a/neu", form("", "ohne Token"))
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without CSRF token: %d", resp.StatusCode)
	}
	tok := tb.csrf("/kalender/5a/neu")
	resp, _ = tb.do("POST", "/kalender/5a/neu", form(tok, "Elternabend"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	m := entryLinkRE.FindStringSubmatch(resp.Header.Get("Location"))
	if m == nil {
		t.Fatalf("create redirected to %q", resp.Header.Get("Location"))
	}
	uid := m[1]
	_, body := tb.do("GET", "/kalender/5a?ansicht=monat", nil)
	if !strings.Contains(body, "Elternabend") || !strings.Contains(body, "/kalender/5a/eintrag/"+uid) {
		t.Errorf("month view lacks the entry")
	}
	for _, view := range []string{"woche", "liste"} {
		if _, body := tb.do("GET", "/kalender/5a?ansicht="+view+"&datum="+day, nil); !strings.Contains(body, "Elternabend") {
			t.Errorf("%s view lacks the entry", view)
		}
	}

	// The pupil: reads, cannot write until the group allows it.
	pb := e.browser()
	pb.mustLogin(pupil)
	if _, body := pb.do("GET", "/kalender/5a/eintrag/"+uid, nil); !strings.Contains(body, "Elternabend") || !strings.Contains(body, "Tina Lehrer") {
		t.Errorf("pupil's entry page: %s", body)
	}
	ptok := pb.csrf("/kalender/5a")
	resp, body = pb.do("POST", "/kalender/5a/eintrag/"+uid+"/bearbeiten", form(ptok, "Elternabend (verlegt)"))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[CAL-WRITE]") {
		t.Errorf("pupil edit: %d", resp.StatusCode)
	}
	tok = tb.csrf("/kalender/5a")
	resp, _ = tb.do("POST", "/kalender/5a/einstellungen", url.Values{"csrf": {tok}, "do": {"members"}, "members_write": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("members write: %d", resp.StatusCode)
	}
	_, body = pb.do("GET", "/kalender/5a/eintrag/"+uid+"/bearbeiten", nil)
	etag := regexp.MustCompile(`name="etag" value="([^"]+)"`).FindStringSubmatch(body)
	if etag == nil {
		t.Fatalf("edit form without etag: %s", body)
	}
	f := form(ptok, "Elternabend (verlegt)")
	f.Set("etag", etag[1])
	resp, _ = pb.do("POST", "/kalender/5a/eintrag/"+uid+"/bearbeiten", f)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pupil edit once allowed: %d", resp.StatusCode)
	}
	// The same stale form again: the edit made meanwhile is not overwritten.
	resp, _ = pb.do("POST", "/kalender/5a/eintrag/"+uid+"/bearbeiten", f)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("stale form: %d", resp.StatusCode)
	}
	_, body = tb.do("GET", "/kalender/5a/eintrag/"+uid, nil)
	for _, want := range []string{"Elternabend (verlegt)", "Angelegt von</dt><dd id=\"entry-created\">Tina Lehrer",
		"Zuletzt geändert von</dt><dd id=\"entry-changed\">Max Schüler", "<strong>Geändert</strong> von Max Schüler",
		"<strong>Angelegt</strong> von Tina Lehrer", "<dd>Elternabend</dd>"} {
		if !strings.Contains(body, want) {
			t.Errorf("entry page lacks %q", want)
		}
	}
	tok = tb.csrf("/kalender/5a/eintrag/" + uid)
	if resp, _ := tb.do("POST", "/kalender/5a/eintrag/"+uid+"/loeschen", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	_, body = tb.do("GET", "/kalender/5a/eintrag/"+uid, nil)
	if !strings.Contains(body, "<strong>Gelöscht</strong> von Tina Lehrer") || strings.Count(body, "<li><p><strong>") != 3 {
		t.Errorf("history after delete: %s", body)
	}
	if _, body := tb.do("GET", "/kalender/5a?ansicht=liste&datum="+day, nil); strings.Contains(body, "Elternabend") {
		t.Error("a deleted entry is still in the list")
	}
	// A teacher of another group cannot read 5a's calendar.
	other := e.user("Otto", "Fremd", policy.Teacher, false, "6b")
	ob := e.browser()
	ob.mustLogin(other)
	if resp, body := ob.do("GET", "/kalender/5a", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[CAL-MEMBER]") {
		t.Errorf("other group's teacher: %d", resp.StatusCode)
	}
}

// TestPortalCalendarBounds: an over-long title (calendar_title_bytes) and
// a full calendar (calendar_entries_per_group) are refused with
// LIMIT-CALENDAR.
func TestPortalCalendarBounds(t *testing.T) {
	e := newPortalEnv(t, nil)
	if err := e.pol.SetBound(policy.CalendarEntriesPerCal, 1); err != nil {
		t.Fatal(err)
	}
	teacher := e.user("Tina", "Lehrer", policy.Teacher, false, "5a")
	b := e.browser()
	b.mustLogin(teacher)
	day := time.Now().Format("2006-01-02")
	post := func(title string) (*http.Response, string) {
		tok := b.csrf("/kalender/5a/neu")
		return b.do("POST", "/kalender/5a/neu", url.Values{"csrf": {tok}, "title": {title}, "start_date": {day}, "all_day": {"1"}})
	}
	if resp, body := post(strings.Repeat("T", int(e.pol.Bound(policy.CalendarTitleBytes))+1)); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, "[LIMIT-CALENDAR]") || !strings.Contains(body, "calendar_title_bytes") {
		t.Errorf("long title: %d", resp.StatusCode)
	}
	if resp, _ := post("Wandertag"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first entry: %d", resp.StatusCode)
	}
	if resp, body := post("Zweiter"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "calendar_entries_per_group") {
		t.Errorf("entry over the bound: %d", resp.StatusCode)
	}
}

// homework is a provider as the homework module would register one.
type homeworkItems struct{}

func (homeworkItems) Items(group string, from, to time.Time) ([]calendar.Item, error) {
	if group != "5a" {
		return nil, nil
	}
	due := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	return []calendar.Item{{ID: "7", Title: "Abgabe: Aufsatz", Start: due, End: due.Add(time.Hour), Link: "/hausaufgaben/7"}}, nil
}

// TestCalendarSubscription: a teacher makes the secret subscription URL,
// a plain HTTP client (no login) reads the .ics with the entries and a
// provider's read-only item; a new URL ends the old one, revoking ends it.
func TestCalendarSubscription(t *testing.T) {
	e := newPortalEnv(t, nil)
	e.srv.Calendar().Register("homework", homeworkItems{})
	teacher := e.user("Tina", "Lehrer", policy.Teacher, false, "5a")
	pupil := e.user("Max", "Schüler", policy.Student, false, "5a")
	now := time.Now()
	f, d := calendar.FromForm(e.pol, "wandertag", calendar.FormInput{Title: "Wandertag", Start: now, End: now.Add(time.Hour)}, now)
	if !d.Allow {
		t.Fatal(d)
	}
	tacc, _ := e.st.Account(teacher)
	if _, _, err := e.srv.Calendar().Put(tacc, "5a", "wandertag", f, calendar.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.mustLogin(teacher)
	feedRE := regexp.MustCompile(`https://[^/]+(/kalender-abo/[a-z0-9]+\.ics)`)
	makeFeed := func() string {
		tok := b.csrf("/kalender/5a")
		resp, body := b.do("POST", "/kalender/5a/einstellungen", url.Values{"csrf": {tok}, "do": {"feed"}})
		m := feedRE.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("make feed: %d", resp.StatusCode)
		}
		return m[1]
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(e.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	first := makeFeed()
	code, ics := get(first)
	if code != http.StatusOK || !strings.Contains(ics, "SUMMARY:Wandertag") || !strings.Contains(ics, "SUMMARY:Abgabe: Aufsatz") ||
		!strings.HasPrefix(ics, "BEGIN:VCALENDAR") {
		t.Fatalf("feed: %d %s", code, ics)
	}
	if _, body := b.do("GET", "/kalender/5a", nil); strings.Contains(body, first) {
		t.Error("the secret URL is shown again after it was made")
	}
	second := makeFeed()
	if code, _ := get(first); code != http.StatusNotFound {
		t.Errorf("old feed after renewing: %d", code)
	}
	if code, _ := get(second); code != http.StatusOK {
		t.Errorf("new feed: %d", code)
	}
	tok := b.csrf("/kalender/5a")
	b.do("POST", "/kalender/5a/einstellungen", url.Values{"csrf": {tok}, "do": {"revoke"}})
	if code, _ := get(second); code != http.StatusNotFound {
		t.Errorf("feed after revoking: %d", code)
	}
	// Pupils cannot make one.
	pb := e.browser()
	pb.mustLogin(pupil)
	tok = pb.csrf("/kalender/5a")
	if resp, body := pb.do("POST", "/kalender/5a/einstellungen", url.Values{"csrf": {tok}, "do": {"feed"}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[CAL-WRITE]") {
		t.Errorf("pupil making a feed: %d", resp.StatusCode)
	}
	// The provider's item in the portal view, read-only, and over CalDAV
	// where a PUT on it is refused.
	if _, body := pb.do("GET", "/kalender/5a?ansicht=liste", nil); !strings.Contains(body, "Abgabe: Aufsatz") || !strings.Contains(body, "/hausaufgaben/7") {
		t.Error("provider item missing from the list view")
	}
	resp, body := davReq(t, "GET", e.base+"/caldav/"+teacher+"/gruppen/5a/homework-7@schulhof.ics", teacher, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Abgabe: Aufsatz") {
		t.Errorf("provider item over CalDAV: %d %s", resp.StatusCode, body)
	}
	resp, body = davReq(t, "PUT", e.base+"/caldav/"+teacher+"/gruppen/5a/homework-7@schulhof.ics", teacher,
		strings.Replace(body, "Abgabe", "Keine Abgabe", 1), map[string]string{"Content-Type": "text/calendar"})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[CAL-WRITE]") {
		t.Errorf("PUT on a provider item: %d %s", resp.StatusCode, body)
	}
}

// TestPortalCalendarModuleOff: with the calendar module off the portal
// neither offers nor serves it (MODULE-OFF).
func TestPortalCalendarModuleOff(t *testing.T) {
	e := newPortalEnv(t, func(o *PortalOptions) {
		o.Modules = map[policy.Module]policy.ModuleSetting{policy.ModuleChat: {On: true}, policy.ModuleCalendar: {On: false}}
	})
	teacher := e.user("Tina", "Lehrer", policy.Teacher, false, "5a")
	b := e.browser()
	b.mustLogin(teacher)
	if _, body := b.do("GET", "/", nil); strings.Contains(body, `href="/kalender"`) {
		t.Error("the start page offers the calendar")
	}
	if resp, body := b.do("GET", "/kalender/5a", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[MODULE-OFF]") {
		t.Errorf("calendar with the module off: %d", resp.StatusCode)
	}
}
