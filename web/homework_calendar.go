package web

// The homework module's entries in the group calendar: each task's due
// time, read-only (changed only on its own page), in the portal's
// calendar views, over CalDAV and in the subscription. The calendar asks
// for every view, so Items is one prefix scan of the group's tasks.

import (
	"slices"
	"strconv"
	"time"

	"schulhof/internal/calendar"
	"schulhof/policy"
	"schulhof/store"
)

// homeworkProvider is the name the items carry (their CATEGORIES and UID
// prefix "hausaufgaben-<id>@schulhof").
const homeworkProvider = "hausaufgaben"

type homeworkCalendar struct {
	st *store.Store
	// on says whether the module is on for a group's members (nil: on).
	modules map[policy.Module]policy.ModuleSetting
	lang    string
}

// dueMarker is how long a due time lasts in a calendar (DTEND must be
// after DTSTART).
const dueMarker = 15 * time.Minute

func (h homeworkCalendar) Items(group string, from, to time.Time) ([]calendar.Item, error) {
	if h.modules != nil {
		set := h.modules[policy.ModuleHomework]
		if !set.On || (len(set.Groups) > 0 && !slices.Contains(set.Groups, group)) {
			return nil, nil
		}
	}
	tasks, err := h.st.TasksOf([]string{group})
	if err != nil {
		return nil, err
	}
	t := texts(h.lang)
	var out []calendar.Item
	for _, tk := range tasks {
		if (!from.IsZero() && tk.Due.Add(dueMarker).Before(from)) || (!to.IsZero() && !tk.Due.Before(to)) {
			continue
		}
		id := strconv.FormatUint(tk.ID, 10)
		out = append(out, calendar.Item{ID: id, Title: t["hw_cal_due"] + oneNewline(tk.Title), Description: oneNewline(tk.Text),
			Start: tk.Due, End: tk.Due.Add(dueMarker), Link: "/hausaufgaben/" + id})
	}
	return out, nil
}
