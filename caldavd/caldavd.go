// Package caldavd serves the group calendars over CalDAV (RFC 4791) with
// go-webdav's caldav server, mounted by web at /caldav/ (and
// /.well-known/caldav, RFC 6764). The URL layout is the one the library
// expects, one level per resource type:
//
//	/caldav/                                the root (current-user-principal)
//	/caldav/<account>/                      the principal
//	/caldav/<account>/gruppen/              the calendar home set
//	/caldav/<account>/gruppen/<group>/      one group's calendar
//	/caldav/<account>/gruppen/<group>/<name>.ics   one entry
//
// Logins are Basic over TLS through internal/auth (the same throttling,
// login log and MODULE-OFF as WebDAV), reused for a few minutes like
// davd's. Reads need membership of the group; PUT and DELETE go through
// internal/calendar (CAL-WRITE, CAL-DATA, LIMIT-CALENDAR), which keeps a
// revision of every change.
//
// The read-only subscription of a group, /kalender-abo/<token>.ics, is
// served here too (Feed): no login, the secret token is the credential.
package caldavd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"

	"schulhof/internal/auth"
	"schulhof/internal/calendar"
	"schulhof/internal/connlimit"
	"schulhof/internal/metrics"
	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// Prefix is where web mounts the handler.
const Prefix = "/caldav/"

// homeName is the calendar home set's segment below the principal.
const homeName = "gruppen"

// Options configure the handler.
type Options struct {
	Calendar *calendar.Service
	Auth     *auth.Verifier
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	// SessionTTL: how long one Basic login is reused; 0: 5 minutes.
	SessionTTL time.Duration
	// AddressBookHome, when set, is the CardDAV home set of an account,
	// which the principal names too (principal.go).
	AddressBookHome func(account string) string
}

// Handler serves CalDAV.
type Handler struct {
	opt      Options
	st       *store.Store
	pol      *policy.Engine
	sessions *auth.BasicCache
	dav      *caldav.Handler
}

// New returns the handler.
func New(opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 5 * time.Minute
	}
	h := &Handler{opt: opt, st: opt.Calendar.Store(), pol: opt.Calendar.Policy(),
		sessions: auth.NewBasicCache(opt.SessionTTL, time.Now)}
	h.dav = &caldav.Handler{Backend: &backend{h: h}, Prefix: strings.TrimSuffix(Prefix, "/")}
	return h
}

type ctxKey int

const (
	ctxAccount ctxKey = iota
	ctxIfMatch
)

func account(ctx context.Context) *store.Account {
	a, _ := ctx.Value(ctxAccount).(*store.Account)
	return a
}

// ServeHTTP authenticates, bounds the body and hands over to go-webdav.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	usercontent.Inert(w.Header()) // as davd and carddavd
	a, d := h.authenticate(r)
	if !d.Allow {
		h.refuse(w, r, d)
		return
	}
	connlimit.AuthenticatedContext(r.Context())
	if r.URL.Path == "/.well-known/caldav" || r.URL.Path == "/.well-known/caldav/" {
		// RFC 6764 section 5: the context path, here the principal.
		http.Redirect(w, r, principalPath(a.Name), http.StatusMovedPermanently)
		return
	}
	// The body is read here, bounded: go-webdav reads whatever it is given.
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
		key := policy.XMLBodyBytes
		if r.Method == http.MethodPut {
			key = policy.CalendarObjectBytes
		}
		limit := h.pol.Bound(key)
		if r.ContentLength > limit {
			h.refuse(w, r, h.pol.CheckBound(key, r.ContentLength))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			http.Error(w, "request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if int64(len(body)) > limit {
			h.refuse(w, r, h.pol.CheckBound(key, int64(len(body))))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	ctx := context.WithValue(r.Context(), ctxAccount, a)
	ctx = context.WithValue(ctx, ctxIfMatch, r.Header.Get("If-Match"))
	if r.URL.Path == "/" {
		// A client pointed at the server root (RFC 6764 section 6 step 4)
		// asks it for the current-user-principal.
		r2 := r.Clone(ctx)
		r2.URL.Path = Prefix
		h.dav.ServeHTTP(w, r2)
		return
	}
	if r.Method == "PROPFIND" && r.URL.Path == principalPath(a.Name) && h.opt.AddressBookHome != nil {
		h.servePrincipal(w, r.WithContext(ctx), h.opt.AddressBookHome(a.Name))
		return
	}
	h.dav.ServeHTTP(w, r.WithContext(ctx))
}

// refuse answers a refusal with its rule in the body ("[CAL-WRITE] …").
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, d policy.Decision) {
	h.opt.Metrics.Refused(metrics.DAV, d)
	status := http.StatusForbidden
	if s, ok := auth.BasicRefusal(w.Header(), d.Rule); ok {
		status = s
	}
	switch d.Rule {
	case policy.LimitCalendar, policy.LimitXML:
		status = http.StatusRequestEntityTooLarge
		w.Header().Set("Connection", "close")
	}
	if d.Rule != policy.AuthFailed {
		h.opt.Logger.InfoContext(r.Context(), "caldav refused", "method", r.Method, "path", r.URL.Path, "rule", d.Rule, "status", status)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, d.String()+"\n")
}

func principalPath(name string) string { return Prefix + name + "/" }
func homePath(name string) string      { return principalPath(name) + homeName + "/" }
func calendarPath(name, group string) string {
	return homePath(name) + group + "/"
}

// splitPath parses /caldav/<account>/gruppen/<group>/<object>: it returns
// the group and the object's name without ".ics" (either may be empty).
func splitPath(a *store.Account, p string) (group, object string, err error) {
	rest, ok := strings.CutPrefix(path.Clean(p)+"/", homePath(a.Name))
	if !ok {
		return "", "", webdav.NewHTTPError(http.StatusNotFound, errors.New("caldav: not this account's calendars"))
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return parts[0], "", nil
	case len(parts) == 2 && strings.HasSuffix(parts[1], ".ics") && len(parts[1]) > 4:
		return parts[0], strings.TrimSuffix(parts[1], ".ics"), nil
	}
	return "", "", webdav.NewHTTPError(http.StatusNotFound, errors.New("caldav: no such calendar resource"))
}

// httpError maps the calendar service's errors to HTTP, counting refusals.
func (h *Handler) httpError(err error) error {
	if d, ok := calendar.AsRefusal(err); ok {
		h.opt.Metrics.Refused(metrics.DAV, d)
		status := http.StatusForbidden
		switch d.Rule {
		case policy.LimitCalendar:
			// A full calendar is what 507 means to clients; a too long
			// text stays 403.
			if strings.Contains(d.Reason, string(policy.CalendarEntriesPerCal)) {
				status = http.StatusInsufficientStorage
			}
		case policy.CalData:
			status = http.StatusUnprocessableEntity
		}
		return webdav.NewHTTPError(status, err)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return webdav.NewHTTPError(http.StatusNotFound, err)
	case errors.Is(err, store.ErrPrecondition):
		return webdav.NewHTTPError(http.StatusPreconditionFailed, err)
	}
	return err
}

// etagOf strips the quotes of an If-Match value ("*" stays).
func etagOf(v string) string {
	v = strings.TrimSpace(v)
	if v == "" || v == "*" {
		return v
	}
	v = strings.TrimPrefix(v, "W/")
	if u, err := strconv.Unquote(v); err == nil {
		return u
	}
	return v
}

// objectOf is one stored entry as a CalDAV object.
func objectOf(a *store.Account, group string, e *store.CalEntry) (*caldav.CalendarObject, error) {
	cal, err := calendar.Decode(e.ICS)
	if err != nil {
		return nil, err
	}
	return &caldav.CalendarObject{Path: calendarPath(a.Name, group) + e.UID + ".ics", ModTime: e.Changed,
		ContentLength: int64(len(e.ICS)), ETag: e.ETag(), Data: cal}, nil
}

func itemObject(a *store.Account, group string, it calendar.ProvidedItem) (caldav.CalendarObject, error) {
	cal := calendar.ItemCalendar(it, it.Start)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		// Another module's item that iCalendar cannot carry (the encoder
		// refuses, e.g., a bare CR): never a half-written object.
		return caldav.CalendarObject{}, fmt.Errorf("caldav: provided item %s: %w", it.UID(), err)
	}
	etag := strconv.FormatUint(uint64(len(buf.Bytes())), 16) + "-" + strconv.FormatInt(it.Start.Unix(), 16) + "-" + shortHash(buf.Bytes())
	return caldav.CalendarObject{Path: calendarPath(a.Name, group) + it.UID() + ".ics", ModTime: it.Start,
		ContentLength: int64(buf.Len()), ETag: etag, Data: cal}, nil
}
