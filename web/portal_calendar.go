package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"schulhof/caldavd"
	"schulhof/chatd"
	"schulhof/internal/calendar"
	"schulhof/policy"
	"schulhof/store"
)

// The group calendars in the portal: month, week and list views of one
// group's calendar, an entry's page with its whole history, and the
// form to create or change an entry. Writes go through
// internal/calendar, the same path as CalDAV's PUT, so both keep the same
// revisions.

func (p *portal) mountCalendar(mux interface {
	Handle(string, http.Handler)
}) {
	o := pageOpts{module: policy.ModuleCalendar}
	mux.Handle("GET /kalender", p.page(o, p.calendarIndex))
	mux.Handle("GET /kalender/{group}", p.page(o, p.calendarView))
	mux.Handle("GET /kalender/{group}/neu", p.page(o, p.calendarNewForm))
	mux.Handle("POST /kalender/{group}/neu", p.page(o, p.calendarCreate))
	mux.Handle("GET /kalender/{group}/eintrag/{uid}", p.page(o, p.calendarEntry))
	mux.Handle("GET /kalender/{group}/eintrag/{uid}/bearbeiten", p.page(o, p.calendarEditForm))
	mux.Handle("POST /kalender/{group}/eintrag/{uid}/bearbeiten", p.page(o, p.calendarEdit))
	mux.Handle("POST /kalender/{group}/eintrag/{uid}/loeschen", p.page(o, p.calendarDelete))
	mux.Handle("POST /kalender/{group}/einstellungen", p.page(o, p.calendarSettings))
}

// calItem is one line in a view: an entry's occurrence or a provided item.
type calItem struct {
	Title, Location, Href, Source string
	Start, End                    time.Time
	AllDay, Recurring, ReadOnly   bool
}

// TimeText is the item's time as the views show it.
func (c calItem) TimeText() string {
	if c.AllDay {
		return ""
	}
	return c.Start.Local().Format("15:04")
}

type calDay struct {
	Date    time.Time
	Label   string
	InMonth bool
	Today   bool
	Items   []calItem
}

type calendarData struct {
	Group        string
	Groups       []string
	View         string // monat, woche, liste
	Heading      string
	Prev, Next   string // query strings
	Date         string
	Weeks        [][]calDay
	Days         []calDay // week and list views
	CanWrite     bool
	Teacher      bool
	MembersWrite bool
	FeedActive   bool
	FeedURL      string // shown once after it was made
	CalDAVURL    string
	Weekdays     []string
}

func (p *portal) calendarIndex(w http.ResponseWriter, r *http.Request, s *session) {
	gs, err := p.st.GroupsOf(s.account.Name)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	if len(gs) == 0 {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["cal_nogroups"])
		return
	}
	http.Redirect(w, r, "/kalender/"+gs[0].Name, http.StatusSeeOther)
}

// calAccess reads the group of the path and refuses a non-member.
func (p *portal) calAccess(w http.ResponseWriter, r *http.Request, s *session) (*calendar.Access, bool) {
	acc, err := p.cal.Access(s.account, r.PathValue("group"))
	if errors.Is(err, store.ErrNotFound) {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return nil, false
	}
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return nil, false
	}
	if !acc.Read.Allow {
		p.deny(w, r, s, acc.Read)
		return nil, false
	}
	return acc, true
}

// items returns what the group's calendar shows in [from, to): entries
// (recurring ones expanded) and the providers' items, sorted by start.
func (p *portal) calItems(group string, from, to time.Time) ([]calItem, error) {
	entries, err := p.st.CalendarEntries(group, from, to)
	if err != nil {
		return nil, err
	}
	var out []calItem
	for _, e := range entries {
		it := calItem{Title: e.Title, Location: e.Location, AllDay: e.AllDay, Recurring: e.Recurring,
			Href: "/kalender/" + group + "/eintrag/" + e.UID, Start: e.Start, End: e.End}
		if !e.Recurring {
			out = append(out, it)
			continue
		}
		cal, err := calendar.Decode(e.ICS)
		if err != nil {
			continue
		}
		for _, c := range cal.Children {
			if c.Name != "VEVENT" || c.Props.Get("RECURRENCE-ID") != nil {
				continue
			}
			set, err := c.RecurrenceSet(time.Local)
			if err != nil || set == nil {
				continue
			}
			d := e.End.Sub(e.Start)
			for _, t := range set.Between(from.Add(-d), to, true) {
				o := it
				o.Start, o.End = t, t.Add(d)
				out = append(out, o)
			}
		}
	}
	provided, err := p.cal.Provided(group, from, to)
	if err != nil {
		return nil, err
	}
	for _, pi := range provided {
		out = append(out, calItem{Title: pi.Title, Href: pi.Link, Source: pi.Provider, Start: pi.Start, End: pi.End,
			AllDay: pi.AllDay, ReadOnly: true})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// dayParam is the day the query's datum names (the views' and the new
// entry form's), today if it names none.
func (p *portal) dayParam(r *http.Request) time.Time {
	if d, err := time.ParseInLocation("2006-01-02", r.URL.Query().Get("datum"), time.Local); err == nil {
		return d
	}
	return dayStart(p.now())
}

func dayStart(t time.Time) time.Time {
	t = t.Local()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.Local)
}

// onDay: the items that touch the day.
func onDay(items []calItem, day time.Time) []calItem {
	end := day.AddDate(0, 0, 1)
	var out []calItem
	for _, it := range items {
		if it.Start.Before(end) && (it.End.After(day) || (it.End.Equal(it.Start) && !it.Start.Before(day))) {
			out = append(out, it)
		}
	}
	return out
}

func (p *portal) calendarView(w http.ResponseWriter, r *http.Request, s *session) {
	acc, ok := p.calAccess(w, r, s)
	if !ok {
		return
	}
	t := p.t(s)
	group := acc.Group.Name
	view := r.URL.Query().Get("ansicht")
	if view != "woche" && view != "liste" {
		view = "monat"
	}
	today := dayStart(p.now())
	date := p.dayParam(r)
	data := calendarData{Group: group, View: view, Date: date.Format("2006-01-02"), CanWrite: acc.Write.Allow,
		Teacher: acc.Group.IsTeacher(s.account.Name), MembersWrite: acc.Info.MembersWrite, FeedActive: acc.Info.FeedHash != "",
		CalDAVURL: "https://" + r.Host + caldavd.Prefix, Weekdays: strings.Split(t["cal_weekdays"], ",")}
	if gs, err := p.st.GroupsOf(s.account.Name); err == nil {
		for _, g := range gs {
			data.Groups = append(data.Groups, g.Name)
		}
	}
	if tok, _ := r.Context().Value(feedTokenKey{}).(string); tok != "" {
		// The answer to making it: the only time the secret is shown (it
		// is never in a URL of the portal, so never in a log or history).
		data.FeedURL = "https://" + r.Host + caldavd.FeedPrefix + tok + ".ics"
	}
	var from, to time.Time
	q := func(d time.Time) string { return "ansicht=" + view + "&datum=" + d.Format("2006-01-02") }
	switch view {
	case "monat":
		first := time.Date(date.Year(), date.Month(), 1, 0, 0, 0, 0, time.Local)
		from = first.AddDate(0, 0, -((int(first.Weekday()) + 6) % 7)) // back to Monday
		to = from.AddDate(0, 0, 42)
		data.Heading = monthName(t, first.Month()) + " " + first.Format("2006")
		data.Prev, data.Next = q(first.AddDate(0, -1, 0)), q(first.AddDate(0, 1, 0))
	case "woche":
		from = date.AddDate(0, 0, -((int(date.Weekday()) + 6) % 7))
		to = from.AddDate(0, 0, 7)
		_, wk := from.ISOWeek()
		data.Heading = t["cal_week"] + " " + strconv.Itoa(wk) + ": " + from.Format("02.01.") + "–" + to.AddDate(0, 0, -1).Format("02.01.2006")
		data.Prev, data.Next = q(from.AddDate(0, 0, -7)), q(from.AddDate(0, 0, 7))
	default:
		from, to = date, date.AddDate(0, 0, 90)
		data.Heading = t["cal_from"] + " " + from.Format("02.01.2006")
		data.Prev, data.Next = q(from.AddDate(0, 0, -90)), q(to)
	}
	items, err := p.calItems(group, from, to)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, t["err_internal"])
		return
	}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		day := calDay{Date: d, Label: data.Weekdays[(int(d.Weekday())+6)%7] + " " + d.Format("02.01."),
			InMonth: d.Month() == date.Month(), Today: d.Equal(today), Items: onDay(items, d)}
		switch view {
		case "monat":
			if (int(d.Sub(from).Hours()/24+0.5))%7 == 0 {
				data.Weeks = append(data.Weeks, nil)
			}
			data.Weeks[len(data.Weeks)-1] = append(data.Weeks[len(data.Weeks)-1], day)
		case "woche":
			data.Days = append(data.Days, day)
		default:
			if len(day.Items) > 0 {
				data.Days = append(data.Days, day)
			}
		}
	}
	v := p.view(s, t["cal_title"]+" "+group, data)
	v.Active = "calendar"
	if r.URL.Query().Get("ok") == "1" {
		v.Notice = t["cal_saved"]
	}
	p.render(w, http.StatusOK, "calendar", v)
}

func monthName(t map[string]string, m time.Month) string {
	names := strings.Split(t["cal_months"], ",")
	if int(m) <= len(names) {
		return names[m-1]
	}
	return m.String()
}

// personName is an account's display name, or the name as stored (an
// erased person's placeholder).
func (p *portal) personName(name string) string {
	if name == "" || name == store.ErasedName {
		return store.ErasedName
	}
	if a, err := p.st.Account(name); err == nil {
		return chatd.DisplayName(a)
	}
	return name
}

type revisionView struct {
	store.CalRevision
	ByName, ActionText string
}

type entryData struct {
	Group                 string
	Entry                 *store.CalEntry
	CreatedName, LastName string
	Revisions             []revisionView
	CanWrite              bool
}

func (p *portal) calendarEntry(w http.ResponseWriter, r *http.Request, s *session) {
	acc, ok := p.calAccess(w, r, s)
	if !ok {
		return
	}
	t := p.t(s)
	e, err := p.st.CalendarEntry(acc.Group.Name, r.PathValue("uid"))
	if err != nil {
		p.fail(w, r, s, http.StatusNotFound, t["err_notfound"])
		return
	}
	revs, err := p.st.CalendarRevisions(acc.Group.Name, e.UID)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, t["err_internal"])
		return
	}
	d := entryData{Group: acc.Group.Name, Entry: e, CreatedName: p.personName(e.CreatedBy), LastName: p.personName(e.ChangedBy),
		CanWrite: acc.Write.Allow && !e.Deleted}
	for i := len(revs) - 1; i >= 0; i-- { // newest first
		d.Revisions = append(d.Revisions, revisionView{revs[i], p.personName(revs[i].By), t["cal_action_"+revs[i].Action]})
	}
	v := p.view(s, e.Title, d)
	v.Active = "calendar"
	if r.URL.Query().Get("ok") == "1" {
		v.Notice = t["cal_saved"]
	}
	p.render(w, http.StatusOK, "calentry", v)
}

type formData struct {
	Group, UID, Action                           string
	Title, Location, Description                 string
	StartDate, StartTime, EndDate, EndTime, ETag string
	AllDay                                       bool
}

func (p *portal) calendarNewForm(w http.ResponseWriter, r *http.Request, s *session) {
	acc, ok := p.calAccess(w, r, s)
	if !ok {
		return
	}
	if !acc.Write.Allow {
		p.deny(w, r, s, acc.Write)
		return
	}
	day := p.dayParam(r)
	f := formData{Group: acc.Group.Name, Action: "/kalender/" + acc.Group.Name + "/neu",
		StartDate: day.Format("2006-01-02"), EndDate: day.Format("2006-01-02"), StartTime: "08:00", EndTime: "09:00"}
	p.renderForm(w, s, http.StatusOK, f, "")
}

func (p *portal) renderForm(w http.ResponseWriter, s *session, status int, f formData, msg string) {
	v := p.view(s, p.t(s)["cal_new"], f)
	v.Active = "calendar"
	v.Error = msg
	p.render(w, status, "calform", v)
}

// formInput reads the entry form.
func formInput(r *http.Request) (formData, calendar.FormInput, bool) {
	f := formData{Title: strings.TrimSpace(r.PostForm.Get("title")), Location: strings.TrimSpace(r.PostForm.Get("location")),
		Description: strings.TrimSpace(r.PostForm.Get("description")), StartDate: r.PostForm.Get("start_date"),
		StartTime: r.PostForm.Get("start_time"), EndDate: r.PostForm.Get("end_date"), EndTime: r.PostForm.Get("end_time"),
		AllDay: r.PostForm.Get("all_day") == "1", ETag: r.PostForm.Get("etag")}
	in := calendar.FormInput{Title: f.Title, Location: f.Location, Description: f.Description, AllDay: f.AllDay}
	parse := func(d, t string) (time.Time, bool) {
		if f.AllDay || t == "" {
			t = "00:00"
		}
		v, err := time.ParseInLocation("2006-01-02 15:04", d+" "+t, time.Local)
		return v, err == nil
	}
	var ok1, ok2 bool
	in.Start, ok1 = parse(f.StartDate, f.StartTime)
	if f.EndDate == "" {
		f.EndDate = f.StartDate
	}
	in.End, ok2 = parse(f.EndDate, f.EndTime)
	return f, in, ok1 && ok2
}

func (p *portal) calendarCreate(w http.ResponseWriter, r *http.Request, s *session) {
	acc, ok := p.calAccess(w, r, s)
	if !ok {
		return
	}
	var rnd [12]byte
	rand.Read(rnd[:])
	uid := hex.EncodeToString(rnd[:])
	f, in, ok := formInput(r)
	f.Group, f.Action = acc.Group.Name, "/kalender/"+acc.Group.Name+"/neu"
	p.saveEntry(w, r, s, acc, uid, f, in, ok, calendar.PutOptions{IfNoneMatch: true})
}

func (p *portal) saveEntry(w http.ResponseWriter, r *http.Request, s *session, acc *calendar.Access, uid string,
	f formData, in calendar.FormInput, parsed bool, o calendar.PutOptions) {
	t := p.t(s)
	if !parsed {
		p.renderForm(w, s, http.StatusBadRequest, f, t["cal_bad_time"])
		return
	}
	if !in.AllDay && in.End.Before(in.Start) {
		p.renderForm(w, s, http.StatusBadRequest, f, t["cal_end_before"])
		return
	}
	fields, d := calendar.FromForm(p.pol, uid, in, p.now())
	if !d.Allow {
		p.renderForm(w, s, http.StatusBadRequest, f, p.refused(p.lang(s), d))
		return
	}
	_, _, err := p.cal.Put(s.account, acc.Group.Name, uid, fields, o)
	if d, ok := calendar.AsRefusal(err); ok {
		p.renderForm(w, s, http.StatusForbidden, f, p.refused(p.lang(s), d))
		return
	}
	if errors.Is(err, store.ErrPrecondition) {
		p.renderForm(w, s, http.StatusConflict, f, t["cal_conflict"])
		return
	}
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, t["err_internal"])
		return
	}
	http.Redirect(w, r, "/kalender/"+acc.Group.Name+"/eintrag/"+uid+"?ok=1", http.StatusSeeOther)
}

func (p *portal) calendarEditForm(w http.ResponseWriter, r *http.Request, s *session) {
	acc, ok := p.calAccess(w, r, s)
	if !ok {
		return
	}
	e, err := p.st.CalendarEntry(acc.Group.Name, r.PathValue("uid"))
	if err != nil || e.Deleted {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	if !acc.Write.Allow {
		p.deny(w, r, s, acc.Write)
		return
	}
	end := e.End
	if e.AllDay {
		end = end.AddDate(0, 0, -1) // DTEND of a day is the next day
	}
	f := formData{Group: acc.Group.Name, UID: e.UID, Action: "/kalender/" + acc.Group.Name + "/eintrag/" + e.UID + "/bearbeiten",
		Title: e.Title, Location: e.Location, Description: e.Description, AllDay: e.AllDay, ETag: e.ETag(),
		StartDate: e.Start.Local().Format("2006-01-02"), StartTime: e.Start.Local().Format("15:04"),
		EndDate: end.Local().Format("2006-01-02"), EndTime: end.Local().Format("15:04")}
	p.renderForm(w, s, http.StatusOK, f, "")
}

func (p *portal) calendarEdit(w http.ResponseWriter, r *http.Request, s *session) {
	acc, ok := p.calAccess(w, r, s)
	if !ok {
		return
	}
	uid := r.PathValue("uid")
	f, in, ok := formInput(r)
	f.Group, f.UID, f.Action = acc.Group.Name, uid, "/kalender/"+acc.Group.Name+"/eintrag/"+uid+"/bearbeiten"
	// The ETag the form was made from: an edit made meanwhile (in the
	// portal or a calendar app) is not overwritten unseen.
	match := f.ETag
	if match == "" {
		match = "*"
	}
	p.saveEntry(w, r, s, acc, uid, f, in, ok, calendar.PutOptions{IfMatch: match})
}

func (p *portal) calendarDelete(w http.ResponseWriter, r *http.Request, s *session) {
	acc, ok := p.calAccess(w, r, s)
	if !ok {
		return
	}
	err := p.cal.Delete(s.account, acc.Group.Name, r.PathValue("uid"), "")
	if d, ok := calendar.AsRefusal(err); ok {
		p.deny(w, r, s, d)
		return
	}
	if err != nil {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	http.Redirect(w, r, "/kalender/"+acc.Group.Name+"/eintrag/"+r.PathValue("uid")+"?ok=1", http.StatusSeeOther)
}

type feedTokenKey struct{}

// calendarSettings: the group's teachers let members write or not, and
// make or revoke the subscription URL.
func (p *portal) calendarSettings(w http.ResponseWriter, r *http.Request, s *session) {
	acc, ok := p.calAccess(w, r, s)
	if !ok {
		return
	}
	g := acc.Group.Name
	var err error
	next := "/kalender/" + g + "?ok=1"
	switch r.PostForm.Get("do") {
	case "members":
		err = p.cal.SetMembersWrite(s.account, g, r.PostForm.Get("members_write") == "1")
	case "feed":
		var tok string
		if tok, err = p.cal.NewFeedToken(s.account, g); err == nil {
			p.calendarView(w, r.WithContext(context.WithValue(r.Context(), feedTokenKey{}, tok)), s)
			return
		}
	case "revoke":
		err = p.cal.RevokeFeed(s.account, g)
	default:
		p.fail(w, r, s, http.StatusBadRequest, p.t(s)["err_notfound"])
		return
	}
	if d, ok := calendar.AsRefusal(err); ok {
		p.deny(w, r, s, d)
		return
	}
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
