package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"schulhof/policy"
	"schulhof/store"
)

// exportOwn is "Meine Daten herunterladen" on Mein Konto: the zip of
// everything stored about the logged-in person (right of access, Art. 15
// GDPR), streamed as it is written. The store runs one export per account
// at a time (LIMIT-EXPORTS: a second click waits for the first). The
// person's own export leaves an audit record (user.export-self) so the
// school can answer when someone asks who took a copy of the data.
func (p *portal) exportOwn(w http.ResponseWriter, r *http.Request, s *session) {
	name := s.account.Name
	rec := &store.AuditRecord{Time: p.now().UTC(), Actor: name, Action: "user.export-self", Target: name,
		Detail: "Portal: Meine Daten herunterladen, von " + clientIP(r)}
	safe := strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
			return r
		}
		return '_'
	}, name) // the header's file name: plain ASCII whatever the name holds
	lw := &lazyDownload{w: w, name: fmt.Sprintf("meine-daten-%s-%s.zip", safe, p.now().Format("2006-01-02"))}
	z := store.NewZipSink(lw)
	err := p.st.ExportAccountAudited(name, z, rec)
	if err == nil {
		err = z.Close()
	}
	switch {
	case err == nil:
	case errors.Is(err, store.ErrExportRunning) && !lw.started:
		d := policy.Deny(policy.LimitExports, "Ein Export Ihrer Daten läuft bereits; bitte warten Sie, bis er fertig ist.")
		p.fail(w, r, s, http.StatusTooManyRequests, p.refused(p.lang(s), d))
	case !lw.started:
		p.log.Error("portal: export", "account", name, "err", err)
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
	default:
		// Half a zip must not look like a whole one: cut the connection
		// so the browser reports a failed download.
		p.log.Error("portal: export cut", "account", name, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// lazyDownload sends the download's headers with its first bytes, so an
// export that cannot start still gets an error page.
type lazyDownload struct {
	w       http.ResponseWriter
	name    string
	started bool
}

func (l *lazyDownload) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		h := l.w.Header()
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="`+l.name+`"`)
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(b)
}
