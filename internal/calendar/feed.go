package calendar

import (
	"io"
	"time"

	"github.com/emersion/go-ical"
)

// ItemCalendar is the iCalendar object of a provider's item.
func ItemCalendar(p ProvidedItem, stamp time.Time) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Schulhof//Gruppenkalender//DE")
	ev := ical.NewEvent()
	ev.Props.SetText(ical.PropUID, p.UID())
	ev.Props.SetDateTime(ical.PropDateTimeStamp, stamp.UTC())
	if p.AllDay {
		ev.Props.SetDate(ical.PropDateTimeStart, p.Start)
		end := p.End
		if !end.After(p.Start) {
			end = p.Start.AddDate(0, 0, 1)
		}
		ev.Props.SetDate(ical.PropDateTimeEnd, end)
	} else {
		ev.Props.SetDateTime(ical.PropDateTimeStart, p.Start.UTC())
		ev.Props.SetDateTime(ical.PropDateTimeEnd, p.End.UTC())
	}
	ev.Props.SetText(ical.PropSummary, p.Title)
	if p.Description != "" {
		ev.Props.SetText(ical.PropDescription, p.Description)
	}
	ev.Props.SetText(ical.PropCategories, p.Provider)
	cal.Children = append(cal.Children, ev.Component)
	return cal
}

// WriteFeed writes a group's whole calendar as one iCalendar file (the
// read-only subscription): its live entries and the providers' items.
func (s *Service) WriteFeed(w io.Writer, group string) error {
	entries, err := s.st.CalendarEntries(group, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	items, err := s.Provided(group, time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	out := ical.NewCalendar()
	out.Props.SetText(ical.PropVersion, "2.0")
	out.Props.SetText(ical.PropProductID, "-//Schulhof//Gruppenkalender//DE")
	out.Props.SetText("X-WR-CALNAME", "Gruppe "+group)
	tz := map[string]bool{}
	for _, e := range entries {
		cal, err := Decode(e.ICS)
		if err != nil {
			return err
		}
		for _, c := range cal.Children {
			if c.Name == ical.CompTimezone {
				id, _ := c.Props.Text(ical.PropTimezoneID)
				if tz[id] {
					continue
				}
				tz[id] = true
			}
			out.Children = append(out.Children, c)
		}
	}
	now := s.now()
	for _, it := range items {
		out.Children = append(out.Children, ItemCalendar(it, now).Children...)
	}
	if len(out.Children) == 0 {
		// go-ical refuses to encode a calendar without components;
		// subscribers accept an empty one, so write it by hand.
		_, err := io.WriteString(w, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Schulhof//Gruppenkalender//DE\r\nX-WR-CALNAME:Gruppe "+group+"\r\nEND:VCALENDAR\r\n")
		return err
	}
	return ical.NewEncoder(w).Encode(out)
}
