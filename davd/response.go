package davd

import (
	"errors"
	"net/http"
	"strconv"

	"schulhof/internal/auth"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// refuse turns a policy refusal into the HTTP answer. It is the one place
// in davd where a Decision becomes a status code (and is counted).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, d policy.Decision) {
	h.opt.Metrics.Refused(metrics.DAV, d)
	status := http.StatusForbidden
	if s, ok := auth.BasicRefusal(w.Header(), d.Rule); ok {
		status = s
	}
	switch d.Rule {
	case policy.Size20MB:
		if r.Method == http.MethodPut {
			status = http.StatusRequestEntityTooLarge
		}
	case policy.LimitUploads:
		// Temporary: the account's other uploads end soon.
		w.Header().Set("Retry-After", "10")
		status = http.StatusTooManyRequests
	case policy.Quota, policy.LimitEntries:
		// A full tree (bytes, entries or depth) is what 507 means to
		// clients: Explorer and Finder say the disk is full.
		status = http.StatusInsufficientStorage
	case policy.LimitXML:
		status = http.StatusRequestEntityTooLarge
	case policy.LimitTimeout:
		status = http.StatusRequestTimeout
	}
	if d.Rule != policy.AuthFailed {
		h.opt.Logger.InfoContext(r.Context(), "dav refused", "method", r.Method, "path", r.URL.Path, "rule", d.Rule, "status", status)
	}
	body := d.String() + "\n"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodPut || r.Method == http.MethodPost || d.Rule == policy.LimitXML {
		// The body was not (fully) read: do not keep the connection.
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// reqState carries what the file system learned during one request back
// to the response: a refusal that x/net/webdav can only report as a
// generic error (405/500), whether a PUT created a file, and how the
// request body ended.
type reqState struct {
	method   string
	refusal  *policy.Decision
	created  bool
	bodyDone bool // the PUT body was read to its end
	ifMatch  []string
	ifNone   []string
	limit    int64 // SIZE-20MB limit of this account now

	preconditionFailed bool

	// tokens are the lock tokens of the If header that are the account's
	// own live locks (checkIf); all others count as not given.
	tokens map[string]*davLock

	src, dst   string // MOVE/COPY: DAV names of source and destination
	replaceDst bool   // the destination file is replaced in one step

	release func() // gives back the upload slot (LIMIT-UPLOADS)
}

// done runs when the request has been answered.
func (s *reqState) done() {
	if s.release != nil {
		s.release()
	}
}

// fail records err if it is a refusal and returns it unchanged.
func (s *reqState) fail(err error) error {
	var re *policy.RefusalError
	if errors.As(err, &re) && s.refusal == nil {
		d := re.Decision
		s.refusal = &d
	}
	return err
}

// responseMapper rewrites the library's error statuses when the file
// system recorded a refusal (413, 507 instead of 405), and a PUT that
// replaced a file answers 204 instead of 201.
type responseMapper struct {
	http.ResponseWriter
	h       *Handler
	r       *http.Request
	state   *reqState
	req     *request // revoked: the account's access ended (revoke.go)
	swallow bool
	wrote   bool
}

func (m *responseMapper) WriteHeader(code int) {
	if m.wrote {
		return
	}
	m.wrote = true
	if m.state.refusal != nil && code >= 400 {
		m.h.refuse(m.ResponseWriter, m.r, *m.state.refusal)
		m.swallow = true
		return
	}
	if m.state.preconditionFailed && code >= 400 {
		code = http.StatusPreconditionFailed
	}
	if code == http.StatusCreated && m.state.method == http.MethodPut && !m.state.created {
		code = http.StatusNoContent
		m.swallow = true // no body with 204
	}
	m.ResponseWriter.WriteHeader(code)
}

func (m *responseMapper) Write(b []byte) (int, error) {
	if !m.wrote {
		m.WriteHeader(http.StatusOK)
	}
	if m.swallow {
		return len(b), nil
	}
	if m.req != nil && m.req.revoked.Load() {
		return 0, errRevoked
	}
	return m.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (m *responseMapper) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// quotaErr turns store.ErrQuota into the QUOTA refusal.
func quotaErr(err error, used, quota int64) error {
	if errors.Is(err, store.ErrQuota) {
		return policy.CheckQuota(used, quota+1, quota).Err()
	}
	return err
}
