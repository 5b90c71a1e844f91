package caldavd

import (
	"bytes"
	"net/http"
	"strings"

	"schulhof/internal/usercontent"
)

// FeedPrefix is where the read-only subscriptions are served:
// FeedPrefix + <token> + ".ics".
const FeedPrefix = "/kalender-abo/"

// Feed serves a group's subscription without a login: whoever has the
// token URL reads the calendar (a phone's calendar app subscribing, a
// parent's). A teacher of the group makes a new token in the portal
// (the old URL stops at once) or revokes it; only its hash is stored.
func (h *Handler) Feed() http.Handler {
	return usercontent.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, FeedPrefix), ".ics")
		if !ok || tok == "" || len(tok) > 100 {
			http.NotFound(w, r)
			return
		}
		group, err := h.st.CalendarFeedGroup(tok)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		var buf bytes.Buffer
		if err := h.opt.Calendar.WriteFeed(&buf, group); err != nil {
			h.opt.Logger.Error("caldav: feed", "group", group, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Write(buf.Bytes())
	}))
}
