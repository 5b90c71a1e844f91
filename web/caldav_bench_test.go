package web

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"schulhof/internal/calendar"
	"schulhof/policy"
	"schulhof/store"
)

// TestCalDAVReportLatency measures CalDAV REPORT calendar-query over one
// month in a school with 100 groups of 30 pupils and 10,000 calendar
// entries (100 per group over a school year): one client, the calendars
// in turn, each answer with its calendar-data. It prints p50 and p99 and
// fails if p99 is over a second. Run it with
//
//	CALDAV_BENCH=1 go test -count=1 -run TestCalDAVReportLatency -v ./web
func TestCalDAVReportLatency(t *testing.T) {
	if os.Getenv("CALDAV_BENCH") != "1" {
		t.Skip("set CALDAV_BENCH=1")
	}
	e := newPortalEnv(t, nil)
	teacher := e.user("Bea", "Bench", policy.Teacher, false)
	const groups, perGroup, requests = 100, 100, 1000
	year := time.Date(2026, 8, 1, 8, 0, 0, 0, time.UTC)
	setup := time.Now()
	for g := range groups {
		name := fmt.Sprintf("g%03d", g)
		members := make([]string, 30)
		for i := range members {
			members[i] = fmt.Sprintf("s%02d.p%03d", i, g)
		}
		if err := e.st.CreateGroup(store.Group{Name: name, Members: members, Teachers: []string{teacher}}); err != nil {
			t.Fatal(err)
		}
		for i := range perGroup {
			start := year.Add(time.Duration((i*365/perGroup)*24+g%8) * time.Hour)
			uid := fmt.Sprintf("e%03d-%03d", g, i)
			f, d := calendar.FromForm(e.pol, uid, calendar.FormInput{Title: "Termin " + uid, Location: "Raum " + name,
				Description: "Klassenarbeit, Ausflug oder Elternabend", Start: start, End: start.Add(90 * time.Minute)}, start)
			if !d.Allow {
				t.Fatal(d)
			}
			if _, _, err := e.st.PutCalendarEntry(store.CalPut{Group: name, UID: uid, Fields: f, By: teacher, Time: start}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("setup: %d groups, %d entries in %v", groups, groups*perGroup, time.Since(setup).Round(time.Millisecond))

	query := `<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
<C:time-range start="20261101T000000Z" end="20261201T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>`
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	lat := make([]time.Duration, 0, requests)
	for i := range requests + 20 {
		req, _ := http.NewRequest("REPORT", fmt.Sprintf("%s/caldav/%s/gruppen/g%03d/", e.base, teacher, i%groups), strings.NewReader(query))
		req.SetBasicAuth(teacher, testPW)
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
		req.Header.Set("Depth", "1")
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if n := strings.Count(string(body), "BEGIN:VEVENT"); resp.StatusCode != http.StatusMultiStatus || n < 7 || n > 10 {
			t.Fatalf("REPORT: %d, %d events", resp.StatusCode, n)
		}
		if i >= 20 { // the first ones warm the login cache and connections
			lat = append(lat, d)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("CalDAV REPORT, one month of one group calendar (of %d entries in %d groups), %d requests: p50 %v, p99 %v",
		groups*perGroup, groups, len(lat), p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
	if p99 > time.Second {
		t.Errorf("p99 %v over a second", p99)
	}
}
