package calendar

import (
	"strings"
	"testing"

	"github.com/emersion/go-ical"

	"schulhof/policy"
)

func decode(t *testing.T, s string) *ical.Calendar {
	t.Helper()
	c, err := ical.NewDecoder(strings.NewReader(strings.ReplaceAll(s, "\n", "\r\n"))).Decode()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const head = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//DE\n"

// TestParse: what is kept, what is dropped and what is refused (CAL-DATA).
func TestParse(t *testing.T) {
	pol := policy.NewEngine()
	uid, f, d := Parse(pol, decode(t, head+`BEGIN:VEVENT
UID:a1
DTSTAMP:20261201T120000Z
DTSTART;TZID=Europe/Berlin:20261210T180000
DTEND;TZID=Europe/Berlin:20261210T193000
SUMMARY:Elternabend
LOCATION:Aula
ATTENDEE;CN=Eva:mailto:eva@example.org
ORGANIZER:mailto:eva@example.org
X-MOZ-GENERATION:3
RRULE:FREQ=WEEKLY;COUNT=3
BEGIN:VALARM
ACTION:DISPLAY
TRIGGER:-PT15M
END:VALARM
END:VEVENT
END:VCALENDAR
`))
	if !d.Allow || uid != "a1" || f.Title != "Elternabend" || f.Location != "Aula" || !f.Recurring || f.AllDay {
		t.Fatalf("parse: %v %q %+v", d, uid, f)
	}
	if f.Start.UTC().Hour() != 17 || f.End.Sub(f.Start).Minutes() != 90 {
		t.Errorf("time zone: %v – %v", f.Start.UTC(), f.End.UTC())
	}
	for _, gone := range []string{"ATTENDEE", "ORGANIZER", "X-MOZ", "eva@example.org"} {
		if strings.Contains(f.ICS, gone) {
			t.Errorf("%s kept in %s", gone, f.ICS)
		}
	}
	if !strings.Contains(f.ICS, "BEGIN:VALARM") || !strings.Contains(f.ICS, "RRULE:FREQ=WEEKLY") {
		t.Errorf("alarm or rule lost: %s", f.ICS)
	}
	_, f, d = Parse(pol, decode(t, head+"BEGIN:VEVENT\nUID:d\nDTSTAMP:20261201T120000Z\nDTSTART;VALUE=DATE:20261224\nSUMMARY:Ferien\nEND:VEVENT\nEND:VCALENDAR\n"))
	if !d.Allow || !f.AllDay || f.End.Sub(f.Start).Hours() != 24 {
		t.Errorf("all-day: %v %+v", d, f)
	}
	for name, body := range map[string]string{
		"method":    "METHOD:REQUEST\nBEGIN:VEVENT\nUID:m\nDTSTART:20261210T180000Z\nEND:VEVENT\n",
		"no start":  "BEGIN:VEVENT\nUID:n\nSUMMARY:x\nEND:VEVENT\n",
		"todo":      "BEGIN:VTODO\nUID:t\nDTSTAMP:20261201T120000Z\nEND:VTODO\n",
		"minutely":  "BEGIN:VEVENT\nUID:r\nDTSTART:20261210T180000Z\nRRULE:FREQ=MINUTELY\nEND:VEVENT\n",
		"no uid":    "BEGIN:VEVENT\nDTSTART:20261210T180000Z\nEND:VEVENT\n",
		"end<start": "BEGIN:VEVENT\nUID:e\nDTSTART:20261210T180000Z\nDTEND:20261210T170000Z\nEND:VEVENT\n",
	} {
		if _, _, d := Parse(pol, decode(t, head+body+"END:VCALENDAR\n")); d.Allow || d.Rule != policy.CalData {
			t.Errorf("%s: %v", name, d)
		}
	}
}
