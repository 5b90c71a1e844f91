package caldavd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"

	"schulhof/internal/calendar"
	"schulhof/policy"
	"schulhof/store"
)

// backend is go-webdav's caldav.Backend over the group calendars of the
// logged-in account (in the request's context).
type backend struct{ h *Handler }

func shortHash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

func (b *backend) CurrentUserPrincipal(ctx context.Context) (string, error) {
	return principalPath(account(ctx).Name), nil
}

func (b *backend) CalendarHomeSetPath(ctx context.Context) (string, error) {
	return homePath(account(ctx).Name), nil
}

func (b *backend) CreateCalendar(ctx context.Context, c *caldav.Calendar) error {
	return webdav.NewHTTPError(http.StatusForbidden, errors.New(policy.Deny(policy.CalWrite,
		"Jede Gruppe hat genau einen Kalender; weitere Kalender werden nicht angelegt.").String()))
}

func (b *backend) calendarOf(a *store.Account, g *store.Group) caldav.Calendar {
	return caldav.Calendar{Path: calendarPath(a.Name, g.Name), Name: "Gruppe " + g.Name,
		Description:           "Gruppenkalender " + g.Name + " (Schulhof)",
		MaxResourceSize:       b.h.pol.Bound(policy.CalendarObjectBytes),
		SupportedComponentSet: []string{ical.CompEvent}}
}

func (b *backend) ListCalendars(ctx context.Context) ([]caldav.Calendar, error) {
	a := account(ctx)
	gs, err := b.h.opt.Calendar.Groups(a)
	if err != nil {
		return nil, err
	}
	out := make([]caldav.Calendar, 0, len(gs))
	for i := range gs {
		out = append(out, b.calendarOf(a, &gs[i]))
	}
	return out, nil
}

// readable returns the group if the account may read its calendar.
func (b *backend) readable(a *store.Account, group string) (*calendar.Access, error) {
	acc, err := b.h.opt.Calendar.Access(a, group)
	if err != nil {
		return nil, b.h.httpError(err)
	}
	if !acc.Read.Allow {
		// Not a member: the calendar does not exist for this account.
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New(acc.Read.String()))
	}
	return acc, nil
}

func (b *backend) GetCalendar(ctx context.Context, p string) (*caldav.Calendar, error) {
	a := account(ctx)
	group, obj, err := splitPath(a, p)
	if err != nil || obj != "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("caldav: no such calendar"))
	}
	acc, err := b.readable(a, group)
	if err != nil {
		return nil, err
	}
	c := b.calendarOf(a, acc.Group)
	return &c, nil
}

func (b *backend) GetCalendarObject(ctx context.Context, p string, req *caldav.CalendarCompRequest) (*caldav.CalendarObject, error) {
	a := account(ctx)
	group, name, err := splitPath(a, p)
	if err != nil || name == "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("caldav: no such object"))
	}
	if _, err := b.readable(a, group); err != nil {
		return nil, err
	}
	if b.h.opt.Calendar.IsProvided(name) {
		items, err := b.h.opt.Calendar.Provided(group, time.Time{}, time.Time{})
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if it.UID() == name {
				o, err := itemObject(a, group, it)
				if err != nil {
					return nil, err
				}
				return &o, nil
			}
		}
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("caldav: no such object"))
	}
	e, err := b.h.st.CalendarEntry(group, name)
	if err != nil {
		return nil, b.h.httpError(err)
	}
	if e.Deleted {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("caldav: deleted"))
	}
	return objectOf(a, group, e)
}

// objects lists a calendar's entries overlapping [from, to) (zero: all)
// and the providers' items.
func (b *backend) objects(a *store.Account, p string, from, to time.Time) ([]caldav.CalendarObject, error) {
	group, obj, err := splitPath(a, p)
	if err != nil || obj != "" {
		return nil, webdav.NewHTTPError(http.StatusNotFound, errors.New("caldav: no such calendar"))
	}
	if _, err := b.readable(a, group); err != nil {
		return nil, err
	}
	entries, err := b.h.st.CalendarEntries(group, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]caldav.CalendarObject, 0, len(entries))
	for i := range entries {
		o, err := objectOf(a, group, &entries[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *o)
	}
	items, err := b.h.opt.Calendar.Provided(group, from, to)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		o, err := itemObject(a, group, it)
		if err != nil {
			// One item that cannot be encoded leaves the others listed.
			b.h.opt.Logger.Warn("caldav: provided item left out", "group", group, "err", err)
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

func (b *backend) ListCalendarObjects(ctx context.Context, p string, req *caldav.CalendarCompRequest) ([]caldav.CalendarObject, error) {
	return b.objects(account(ctx), p, time.Time{}, time.Time{})
}

// QueryCalendarObjects narrows by the query's time range in the store
// first (non-recurring entries outside it are never decoded), then lets
// go-webdav's matcher decide the rest of the filter.
func (b *backend) QueryCalendarObjects(ctx context.Context, p string, q *caldav.CalendarQuery) ([]caldav.CalendarObject, error) {
	var from, to time.Time
	for _, c := range q.CompFilter.Comps {
		if c.Name == ical.CompEvent && !c.Start.IsZero() {
			from, to = c.Start, c.End
			if to.IsZero() {
				to = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			}
		}
	}
	objs, err := b.objects(account(ctx), p, from, to)
	if err != nil {
		return nil, err
	}
	return caldav.Filter(q, objs)
}

func (b *backend) PutCalendarObject(ctx context.Context, p string, cal *ical.Calendar, opts *caldav.PutCalendarObjectOptions) (*caldav.CalendarObject, error) {
	a := account(ctx)
	group, name, err := splitPath(a, p)
	if err != nil || name == "" {
		return nil, webdav.NewHTTPError(http.StatusForbidden, errors.New("caldav: entries go into a group calendar"))
	}
	if _, err := b.readable(a, group); err != nil {
		return nil, err
	}
	_, f, d := calendar.Parse(b.h.pol, cal)
	if !d.Allow {
		return nil, b.h.httpError(&calendar.Refusal{D: d})
	}
	o := calendar.PutOptions{IfMatch: etagOf(string(opts.IfMatch)), IfNoneMatch: opts.IfNoneMatch.IsWildcard()}
	e, _, err := b.h.opt.Calendar.Put(a, group, name, f, o)
	if err != nil {
		return nil, b.h.httpError(err)
	}
	return objectOf(a, group, e)
}

func (b *backend) DeleteCalendarObject(ctx context.Context, p string) error {
	a := account(ctx)
	group, name, err := splitPath(a, p)
	if err != nil || name == "" {
		return webdav.NewHTTPError(http.StatusForbidden, errors.New("caldav: only entries can be deleted"))
	}
	if _, err := b.readable(a, group); err != nil {
		return err
	}
	ifMatch, _ := ctx.Value(ctxIfMatch).(string)
	return b.h.httpError(b.h.opt.Calendar.Delete(a, group, name, etagOf(ifMatch)))
}
