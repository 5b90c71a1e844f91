package web

import (
	"net/http"
	"strings"

	"schulhof/internal/logid"
	"schulhof/internal/metrics"
)

// observe gives every request an ID that its log lines carry (the
// logger's handler adds it from the context, see logid) and counts the
// request by method: "dav" under /dav, "web" for everything else.
func observe(m *metrics.Metrics, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto := metrics.Web
		if r.URL.Path == "/dav" || strings.HasPrefix(r.URL.Path, "/dav/") {
			proto = metrics.DAV
		}
		m.Command(proto, r.Method)
		h.ServeHTTP(w, r.WithContext(logid.With(r.Context(), logid.New())))
	})
}
