// Package carddavd serves the school's shared address book over CardDAV
// (RFC 6352), read-only: the same lines as the portal's address book
// (internal/addressbook), one vCard per account with name, address,
// groups and nickname. github.com/emersion/go-webdav's carddav server
// does the protocol; this package wraps it the net/http way to add Basic
// authentication (auth.go), MODULE-OFF, the read-only rule, the XML
// bound, and implements its Backend over the store (backend.go, card.go).
// Two properties the library lacks, current-user-privilege-set (read
// only) and getctag, are filled into its PROPFIND answers (liveprops.go).
//
// The namespace, built per request from the authenticated account:
//
//	/carddav/                                  context path: current-user-principal
//	/carddav/<me>/                             principal: addressbook-home-set
//	/carddav/<me>/adressbuecher/               home set: one address book
//	/carddav/<me>/adressbuecher/schule/        the shared address book
//	/carddav/<me>/adressbuecher/schule/<a>.vcf one account's card
//
// Another account's principal is not found: nothing under /carddav/ names
// anyone but the one who logged in, except the cards, which everyone sees.
//
// go-webdav v0.6.0 answers no sync-collection REPORT (RFC 6578) on the
// server side and does not list it in supported-report-set, so clients
// sync by comparing the ETags of a Depth 1 PROPFIND and fetching what
// changed with addressbook-multiget.
package carddavd

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-webdav/carddav"

	"schulhof/internal/auth"
	"schulhof/internal/connlimit"
	"schulhof/internal/metrics"
	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// Options configure the handler.
type Options struct {
	Store  *store.Store
	Auth   *auth.Verifier
	Policy *policy.Engine
	Logger *slog.Logger
	Domain string // addresses are account@Domain
	// Modules are the school's settings (MODULE-OFF for the address
	// book, as the portal decides it); nil: every module is on.
	Modules map[policy.Module]policy.ModuleSetting
	// SessionTTL is how long one Basic-auth login is reused before the
	// password goes through auth.Verify (and the login log) again; 0: 5 min.
	SessionTTL time.Duration
	Now        func() time.Time
	Metrics    *metrics.Metrics
}

// Prefix is where web mounts the handler.
const Prefix = "/carddav/"

// bookName is the one address book in every home set.
const (
	homeName = "adressbuecher"
	bookName = "schule"
)

// Handler serves CardDAV; it is safe for concurrent use.
type Handler struct {
	opt      Options
	sessions *auth.BasicCache
	lib      *carddav.Handler
}

// New returns the CardDAV handler.
func New(opt Options) *Handler {
	if opt.Policy == nil {
		opt.Policy = policy.NewEngine()
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 5 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	h := &Handler{opt: opt, sessions: auth.NewBasicCache(opt.SessionTTL, opt.Now)}
	h.lib = &carddav.Handler{Backend: &backend{h: h}, Prefix: strings.TrimSuffix(Prefix, "/")}
	return h
}

// WellKnown answers /.well-known/carddav (RFC 6764 §5) with a redirect to
// the context path, where an authenticated PROPFIND finds the principal.
// 301 as the RFC's example: clients (iOS, DAVx⁵, aiohttp's vdirsyncer)
// repeat a PROPFIND there with its body.
func WellKnown() http.Handler {
	return usercontent.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
	}))
}

// readMethods are what a read-only address book answers; everything else
// is refused with ADDRESSBOOK-READONLY.
var readMethods = map[string]bool{http.MethodOptions: true, http.MethodGet: true, http.MethodHead: true,
	"PROPFIND": true, "REPORT": true}

// ServeHTTP authenticates, refuses writes, bounds the body and hands the
// request to go-webdav's carddav server over the account's namespace.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	usercontent.Inert(w.Header()) // as davd and caldavd
	acct, d := h.authenticate(r)
	if !d.Allow {
		h.refuse(w, r, d)
		return
	}
	connlimit.AuthenticatedContext(r.Context())
	if !readMethods[r.Method] {
		h.refuse(w, r, policy.Deny(policy.AddressBookReadOnly,
			"Das Adressbuch ist über CardDAV nur lesbar; Spitzname und Angaben ändert jede*r im Portal unter „Mein Konto“."))
		return
	}
	if !h.ownPath(r.URL.Path, acct.Name) {
		http.Error(w, "Nicht gefunden.", http.StatusNotFound)
		return
	}
	if r.Method == http.MethodOptions {
		// go-webdav would offer PUT, DELETE and MKCOL; this book is read-only.
		w.Header().Set("DAV", "1, 3, addressbook")
		w.Header().Set("Allow", "OPTIONS, GET, HEAD, PROPFIND, REPORT")
		w.WriteHeader(http.StatusOK)
		return
	}
	rq := &request{acct: acct, version: "3.0"}
	if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "version=4.0") {
		rq.version = "4.0"
	}
	if r.Method == "PROPFIND" || r.Method == "REPORT" {
		body, d := h.readBody(r)
		if !d.Allow {
			h.refuse(w, r, d)
			return
		}
		if r.Method == "PROPFIND" {
			rq.noCards = !propfindWantsCards(body)
			rq.lengths = propfindWants(body, "getcontentlength")
			rq.liveProps = wantsLiveProps(body)
		}
		if r.Method == "REPORT" {
			rp := scanReport(body)
			if rp.v4 {
				rq.version = "4.0"
			}
			// Each filter is matched against every card of the school.
			if d := h.opt.Policy.CheckBound(policy.CardDAVQueryFilters, rp.filters); !d.Allow {
				h.refuse(w, r, d)
				return
			}
			rq.hrefs = rp.hrefs
		}
		if len(body) > 0 && r.Header.Get("Content-Type") == "" {
			r.Header.Set("Content-Type", "application/xml") // go-webdav insists; some clients send none
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	r = r.WithContext(context.WithValue(r.Context(), requestKey{}, rq))
	if rq.liveProps {
		h.serveWithLiveProps(w, r, rq)
		return
	}
	h.lib.ServeHTTP(w, r)
}

// ownPath: the context path, or something under the account's own
// principal (the library would answer another principal with an empty
// multistatus; a client should learn it does not exist).
func (h *Handler) ownPath(p, me string) bool {
	rest, ok := strings.CutPrefix(p, Prefix)
	if !ok {
		return p == strings.TrimSuffix(Prefix, "/")
	}
	if rest == "" {
		return true
	}
	first, _, _ := strings.Cut(rest, "/")
	return first == me
}

// readBody reads a PROPFIND or REPORT body up to xml_body_bytes
// (LIMIT-XML); more is refused before anything is parsed.
func (h *Handler) readBody(r *http.Request) ([]byte, policy.Decision) {
	limit := h.opt.Policy.Bound(policy.XMLBodyBytes)
	if r.ContentLength > limit {
		return nil, h.opt.Policy.CheckBound(policy.XMLBodyBytes, r.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, policy.Deny(policy.LimitTimeout, "Der Anfrageinhalt kam nicht vollständig an.")
	}
	if int64(len(body)) > limit {
		return nil, h.opt.Policy.CheckBound(policy.XMLBodyBytes, int64(len(body)))
	}
	return body, policy.Allowed
}

const nsCardDAV = "urn:ietf:params:xml:ns:carddav"

// report is what ServeHTTP reads from a REPORT body before the library
// decodes it: whether it asks for vCard 4.0 (<address-data
// version="4.0">, as DAVx⁵ does when the book offers it; otherwise 3.0,
// which every client reads, Apple Contacts only that one), how many
// filters it has, and the cards a multiget names.
type report struct {
	v4      bool
	filters int64
	hrefs   []string
}

// propfindWantsCards: the PROPFIND may ask for address-data (an empty
// body and allprop count as asking). It errs on the side of building.
func propfindWantsCards(body []byte) bool { return propfindWants(body, "address-data") }

func propfindWants(body []byte, prop string) bool {
	return len(bytes.TrimSpace(body)) == 0 || bytes.Contains(body, []byte("allprop")) || bytes.Contains(body, []byte(prop))
}

func scanReport(body []byte) report {
	var rp report
	d := xml.NewDecoder(bytes.NewReader(body))
	inHref := false
	for {
		tok, err := d.Token()
		if err != nil {
			return rp
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Space == nsCardDAV && t.Name.Local == "address-data":
				for _, a := range t.Attr {
					rp.v4 = rp.v4 || a.Name.Local == "version" && a.Value == "4.0"
				}
			case t.Name.Space == nsCardDAV && (t.Name.Local == "prop-filter" || t.Name.Local == "param-filter" || t.Name.Local == "text-match"):
				rp.filters++
			case t.Name.Space == "DAV:" && t.Name.Local == "href":
				inHref = true
			}
		case xml.CharData:
			if inHref {
				if u, err := url.Parse(strings.TrimSpace(string(t))); err == nil {
					rp.hrefs = append(rp.hrefs, u.Path)
				}
			}
		case xml.EndElement:
			inHref = false
		}
	}
}

// refuse answers a refusal in HTTP: the status clients understand, the
// rule in the body (and in the log and the metrics).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, d policy.Decision) {
	h.opt.Metrics.Refused(metrics.CardDAV, d)
	status := http.StatusForbidden
	if s, ok := auth.BasicRefusal(w.Header(), d.Rule); ok {
		status = s
	}
	switch d.Rule {
	case policy.LimitXML:
		status = http.StatusRequestEntityTooLarge
	case policy.LimitTimeout:
		status = http.StatusRequestTimeout
	}
	if d.Rule != policy.AuthFailed {
		h.opt.Logger.InfoContext(r.Context(), "carddav refused", "method", r.Method, "path", r.URL.Path, "rule", d.Rule, "status", status)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, d.String()+"\n")
}

type requestKey struct{}

// request is what one request's backend calls share: the account, the
// vCard version asked for, and the group memberships read once.
type request struct {
	acct    *store.Account
	version string
	of      map[string][]string
	// hrefs a multiget names; the first card asked for reads them all
	// in one transaction (people).
	hrefs  []string
	people map[string]store.Person
	// noCards: a PROPFIND that asks neither address-data nor allprop,
	// as every client's ETag listing: no vCard is built.
	noCards bool
	// lengths: the PROPFIND asks for getcontentlength (RFC 4918 wants it
	// on every GETtable resource; go-webdav's client insists on it): the
	// card is built and measured, nothing else needs that.
	lengths bool
	// liveProps: the PROPFIND asks for current-user-privilege-set or
	// getctag, which liveprops.go fills in.
	liveProps bool
}

func fromContext(ctx context.Context) (*request, error) {
	rq, ok := ctx.Value(requestKey{}).(*request)
	if !ok {
		return nil, errors.New("carddavd: request without account")
	}
	return rq, nil
}

// HomePath is the address-book home set of an account, for the CalDAV
// principal that a client discovering from the server root reaches.
func HomePath(account string) string { return homePath(account) }
