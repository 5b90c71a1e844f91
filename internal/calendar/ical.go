package calendar

import (
	"bytes"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	// TZIDs sent by Thunderbird, Apple and DAVx⁵ ("Europe/Berlin") must
	// resolve on a server without a zoneinfo package too.
	_ "time/tzdata"

	"schulhof/policy"
	"schulhof/store"
)

// keptProps are the VEVENT properties a calendar entry keeps. Everything
// else is dropped before storing: ATTENDEE and ORGANIZER carry addresses
// the Nutzungsordnung does not list for a calendar, X- properties are
// client state. VALARM children are kept (a reminder is the reader's).
var keptProps = map[string]bool{
	ical.PropUID: true, ical.PropDateTimeStamp: true, ical.PropDateTimeStart: true, ical.PropDateTimeEnd: true,
	ical.PropDuration: true, ical.PropSummary: true, ical.PropDescription: true, ical.PropLocation: true,
	ical.PropRecurrenceRule: true, ical.PropRecurrenceDates: true, ical.PropExceptionDates: true,
	ical.PropRecurrenceID: true, ical.PropCategories: true, ical.PropStatus: true, ical.PropTransparency: true,
	ical.PropClass: true, ical.PropSequence: true, ical.PropCreated: true, ical.PropLastModified: true,
}

// allowedFreq: a rule repeating faster than daily would let one small
// object expand into millions of instances in every REPORT.
var allowedFreq = map[string]bool{"DAILY": true, "WEEKLY": true, "MONTHLY": true, "YEARLY": true}

func dataErr(format string, args ...any) policy.Decision {
	return policy.Deny(policy.CalData, format, args...)
}

// Parse validates a client's iCalendar object (RFC 4791 4.1: one
// component type, one UID, no METHOD), keeps only the properties listed
// above and returns the entry's UID and fields with the sanitized text.
func Parse(pol *policy.Engine, cal *ical.Calendar) (string, store.CalFields, policy.Decision) {
	var f store.CalFields
	kind, uid, err := caldavValidate(cal)
	if err != nil {
		return "", f, dataErr("Ungültiger Kalendereintrag: %v", err)
	}
	if kind != ical.CompEvent {
		return "", f, dataErr("Der Gruppenkalender nimmt nur Termine (VEVENT) an, nicht %q.", kind)
	}
	if d := checkUID(uid); !d.Allow {
		return "", f, d
	}
	out := ical.NewCalendar()
	out.Props.SetText(ical.PropVersion, "2.0")
	out.Props.SetText(ical.PropProductID, "-//Schulhof//Gruppenkalender//DE")
	var master *ical.Component
	for _, c := range cal.Children {
		switch c.Name {
		case ical.CompTimezone:
			out.Children = append(out.Children, c)
		case ical.CompEvent:
			ev := ical.NewComponent(ical.CompEvent)
			for name, ps := range c.Props {
				if keptProps[name] {
					ev.Props[name] = ps
				}
			}
			for _, ch := range c.Children {
				if ch.Name == ical.CompAlarm {
					ev.Children = append(ev.Children, ch)
				}
			}
			if rr := ev.Props.Get(ical.PropRecurrenceRule); rr != nil {
				freq := ""
				for _, part := range strings.Split(rr.Value, ";") {
					if v, ok := strings.CutPrefix(strings.ToUpper(part), "FREQ="); ok {
						freq = v
					}
				}
				if !allowedFreq[freq] {
					return "", f, dataErr("Wiederholung %q: erlaubt ist höchstens täglich (DAILY, WEEKLY, MONTHLY, YEARLY).", freq)
				}
			}
			if ev.Props.Get(ical.PropDateTimeStamp) == nil {
				ev.Props.SetDateTime(ical.PropDateTimeStamp, time.Now().UTC())
			}
			if master == nil || ev.Props.Get(ical.PropRecurrenceID) == nil {
				master = ev
			}
			out.Children = append(out.Children, ev)
		}
	}
	if master == nil {
		return "", f, dataErr("Kein Termin (VEVENT) im Kalenderobjekt.")
	}
	e := ical.Event{Component: master}
	start, err := e.DateTimeStart(time.Local)
	if err != nil || start.IsZero() {
		return "", f, dataErr("Der Termin braucht einen gültigen Beginn (DTSTART).")
	}
	end, err := e.DateTimeEnd(time.Local)
	if err != nil {
		return "", f, dataErr("Ungültiges Ende des Termins: %v", err)
	}
	if end.Before(start) {
		return "", f, dataErr("Der Termin endet vor seinem Beginn.")
	}
	f.Start, f.End = start, end
	if p := master.Props.Get(ical.PropDateTimeStart); p != nil && p.ValueType() == ical.ValueDate {
		f.AllDay = true
	}
	if !f.AllDay && end.Equal(start) {
		f.End = start.Add(time.Minute) // a point in time still overlaps its own minute
	}
	f.Recurring = master.Props.Get(ical.PropRecurrenceRule) != nil || master.Props.Get(ical.PropRecurrenceDates) != nil
	f.Title, _ = master.Props.Text(ical.PropSummary)
	f.Location, _ = master.Props.Text(ical.PropLocation)
	f.Description, _ = master.Props.Text(ical.PropDescription)
	if d := checkText(pol, f); !d.Allow {
		return "", f, d
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(out); err != nil {
		return "", f, dataErr("Ungültiger Kalendereintrag: %v", err)
	}
	f.ICS = buf.String()
	return uid, f, policy.Allowed
}

// caldavValidate is RFC 4791 section 4.1 (the same checks as go-webdav's
// caldav.ValidateCalendarObject, which the portal's path does not pass).
func caldavValidate(cal *ical.Calendar) (kind, uid string, err error) {
	if cal.Props.Get(ical.PropMethod) != nil {
		return "", "", errString("METHOD ist in einem Kalender nicht erlaubt")
	}
	for _, c := range cal.Children {
		if c.Name == ical.CompTimezone {
			continue
		}
		if kind == "" {
			kind = c.Name
		} else if kind != c.Name {
			return "", "", errString("verschiedene Arten von Einträgen in einem Objekt")
		}
		u, _ := c.Props.Text(ical.PropUID)
		if uid == "" {
			uid = u
		} else if u != "" && u != uid {
			return "", "", errString("verschiedene UIDs in einem Objekt")
		}
	}
	if kind == "" {
		return "", "", errString("leeres Kalenderobjekt")
	}
	return kind, uid, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// checkUID: a UID becomes a key and a file name in URLs.
func checkUID(uid string) policy.Decision {
	if uid == "" || len(uid) > 255 {
		return dataErr("Der Termin braucht eine UID (1 bis 255 Zeichen).")
	}
	for _, c := range uid {
		if c < 0x21 || c == '/' || c == 0x7f {
			return dataErr("Die UID %q enthält ein nicht erlaubtes Zeichen.", uid)
		}
	}
	return policy.Allowed
}

func checkText(pol *policy.Engine, f store.CalFields) policy.Decision {
	if d := pol.CheckBound(policy.CalendarTitleBytes, int64(max(len(f.Title), len(f.Location)))); !d.Allow {
		return d
	}
	return pol.CheckBound(policy.CalendarTextBytes, int64(len(f.Description)))
}

// FormInput is what the portal's entry form sends.
type FormInput struct {
	Title, Location, Description string
	Start, End                   time.Time // in the server's zone
	AllDay                       bool
}

// FromForm builds the iCalendar object of an entry made in the portal and
// parses it like one sent over CalDAV, so both paths store the same.
func FromForm(pol *policy.Engine, uid string, in FormInput, now time.Time) (store.CalFields, policy.Decision) {
	if strings.TrimSpace(in.Title) == "" {
		return store.CalFields{}, dataErr("Der Termin braucht einen Titel.")
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Schulhof//Gruppenkalender//DE")
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, uid)
	ev.Props.SetDateTime(ical.PropDateTimeStamp, now.UTC())
	if in.AllDay {
		s := time.Date(in.Start.Year(), in.Start.Month(), in.Start.Day(), 0, 0, 0, 0, time.Local)
		e := time.Date(in.End.Year(), in.End.Month(), in.End.Day(), 0, 0, 0, 0, time.Local).AddDate(0, 0, 1)
		if !e.After(s) {
			e = s.AddDate(0, 0, 1)
		}
		ev.Props.SetDate(ical.PropDateTimeStart, s)
		ev.Props.SetDate(ical.PropDateTimeEnd, e)
	} else {
		ev.Props.SetDateTime(ical.PropDateTimeStart, in.Start.UTC())
		ev.Props.SetDateTime(ical.PropDateTimeEnd, in.End.UTC())
	}
	ev.Props.SetText(ical.PropSummary, in.Title)
	if in.Location != "" {
		ev.Props.SetText(ical.PropLocation, in.Location)
	}
	if in.Description != "" {
		ev.Props.SetText(ical.PropDescription, in.Description)
	}
	cal.Children = append(cal.Children, ev.Component)
	_, f, d := Parse(pol, cal)
	return f, d
}

// Decode reads the stored iCalendar text of an entry.
func Decode(ics string) (*ical.Calendar, error) {
	return ical.NewDecoder(strings.NewReader(ics)).Decode()
}
