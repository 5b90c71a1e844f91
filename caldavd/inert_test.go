package caldavd

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"schulhof/internal/calendar"
	"schulhof/internal/usercontent/inerttest"
)

// Every response carries the inert-content headers, as davd's do: a
// refusal before login, an answer after it, the discovery redirect, and
// the subscription feed's not-found.
func TestEveryResponseInert(t *testing.T) {
	st, v, anna := inerttest.Pupil(t)
	h := New(Options{Calendar: calendar.New(st, nil, nil), Auth: v, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mux := http.NewServeMux()
	mux.Handle(Prefix, h)
	mux.Handle("/.well-known/caldav", h)
	mux.Handle("GET "+FeedPrefix, h.Feed())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	inerttest.Check(t, srv.URL, []inerttest.Request{
		inerttest.R("", "PROPFIND", Prefix, http.StatusUnauthorized),
		inerttest.R(anna, "PROPFIND", principalPath(anna), http.StatusMultiStatus),
		inerttest.R(anna, "GET", "/.well-known/caldav", http.StatusMovedPermanently),
		inerttest.R("", "GET", FeedPrefix+"unbekannt.ics", http.StatusNotFound),
	})
}
