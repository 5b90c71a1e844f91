package web

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"schulhof/chatd"
	"schulhof/forumd"
	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/internal/calendar"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// PortalOptions switch on the browser portal (login, start page, my
// account, address book, chat, reports).
type PortalOptions struct {
	Domain   string
	Language string // default language: "de" or "en"
	// SessionIdle and SessionMax end sessions (defaults 2 h and 12 h).
	SessionIdle, SessionMax time.Duration
	// Modules the school has switched on (nil: all on).
	Modules map[policy.Module]policy.ModuleSetting
	// DirectScopes per role for chat (nil: policy defaults).
	DirectScopes map[policy.Role]policy.DirectScope
	// Inspect, if set, serves the auditors' inspection pages
	// (portal_inspect.go, AUDIT-INSPECT).
	Inspect *admin.Service
	// HomeworkMinDays is HOMEWORK-PERIOD's minimum in school days (nil:
	// policy.DefaultHomeworkMinDays).
	HomeworkMinDays *int
	Now             func() time.Time
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// portal serves the pages; its handlers are mounted on the server's mux.
type portal struct {
	opt  PortalOptions
	st   *store.Store
	auth *auth.Verifier
	pol  *policy.Engine
	log  *slog.Logger
	mtr  *metrics.Metrics // counts refusals (refused.go)
	// quotas bound hand-ins too (home folder and hand-ins together).
	quotas policy.Quotas
	hub    *chatd.Hub
	// forum answers for the forum pages (portal_forum.go).
	forum *forumd.Service
	cal   *calendar.Service
	tpl   map[string]*template.Template
	stop  chan struct{}
	done  chan struct{}
}

// csp: no inline script or style anywhere, no framing, forms only here.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func newPortal(o Options) *portal {
	po := *o.Portal
	if po.SessionIdle <= 0 {
		po.SessionIdle = 2 * time.Hour
	}
	if po.SessionMax <= 0 {
		po.SessionMax = 12 * time.Hour
	}
	if po.Now == nil {
		po.Now = time.Now
	}
	if po.Language == "" {
		po.Language = "de"
	}
	if po.Modules == nil {
		po.Modules = map[policy.Module]policy.ModuleSetting{}
		for _, m := range policy.Modules {
			po.Modules[m] = policy.ModuleSetting{On: true}
		}
	}
	p := &portal{opt: po, st: o.Store, auth: o.Auth, pol: o.Policy, log: o.Logger, mtr: o.Metrics, tpl: parseTemplates(), cal: o.Calendar,
		stop: make(chan struct{}), done: make(chan struct{})}
	p.quotas = policy.DefaultQuotas()
	if o.Quotas != nil {
		p.quotas = *o.Quotas
	}
	go p.purgeLoop(time.Hour)
	p.forum = &forumd.Service{Store: o.Store, Policy: o.Policy, Domain: po.Domain, Logger: o.Logger, Now: po.Now}
	p.hub = chatd.New(chatd.Options{Store: o.Store, Policy: o.Policy, Logger: o.Logger, Metrics: o.Metrics,
		Authenticate: func(r *http.Request) (string, string, bool) {
			s, ok := p.lookup(r)
			if !ok || s.ws.MustChange {
				return "", "", false
			}
			return s.account.Name, s.ws.Key, true
		},
		Valid: p.validKey,
		Module: func(a *store.Account) policy.Decision {
			return p.module(a, policy.ModuleChat)
		},
		DirectScopes: po.DirectScopes, Now: po.Now})
	return p
}

func (p *portal) now() time.Time { return p.opt.Now() }

func (p *portal) close() {
	p.hub.Close()
	close(p.stop)
	<-p.done
}

// purgeLoop removes expired sessions that were never presented again.
func (p *portal) purgeLoop(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			now := p.now()
			n, err := p.st.PurgeSessions(func(ws store.WebSession) bool {
				return now.Sub(ws.Created) > p.opt.SessionMax || now.Sub(ws.LastSeen) > p.opt.SessionIdle
			})
			if err != nil {
				p.log.Error("portal: purge sessions", "err", err)
			} else if n > 0 {
				p.log.Info("portal: expired sessions removed", "count", n)
			}
		}
	}
}

func parseTemplates() map[string]*template.Template {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return t.Local().Format("02.01.2006 15:04")
		},
		"join": strings.Join,
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	out := map[string]*template.Template{}
	pages, _ := fs.Glob(templateFS, "templates/*.html")
	for _, f := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(f, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, f))
	}
	return out
}

// mount adds the portal's routes.
func (p *portal) mount(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})))
	mux.Handle("GET /{$}", secure(http.HandlerFunc(p.root)))
	mux.Handle("POST /anmelden", secure(http.HandlerFunc(p.login)))
	mux.Handle("POST /abmelden", p.page(pageOpts{restricted: true}, p.logout))
	mux.Handle("GET /konto/passwort", p.page(pageOpts{restricted: true}, p.passwordForm))
	mux.Handle("POST /konto/passwort", p.page(pageOpts{restricted: true}, p.passwordChange))
	mux.Handle("GET /konto", p.page(pageOpts{}, p.accountPage))
	mux.Handle("POST /konto", p.page(pageOpts{}, p.accountSave))
	mux.Handle("POST /konto/abmelden-ueberall", p.page(pageOpts{}, p.logoutEverywhere))
	mux.Handle("POST /konto/sitzung-beenden", p.page(pageOpts{}, p.endSession))
	mux.Handle("POST /konto/daten", p.page(pageOpts{}, p.exportOwn))
	mux.Handle("GET /adressbuch", p.page(pageOpts{module: policy.ModuleAddressBook}, p.addressBook))
	mux.Handle("GET /gruppe/{name}", p.page(pageOpts{module: policy.ModuleAddressBook}, p.groupPage))
	mux.Handle("GET /chat", p.page(pageOpts{module: policy.ModuleChat}, p.chatPage))
	mux.Handle("GET /chat/ws", p.hub)
	mux.Handle("GET /meldungen", p.page(pageOpts{admin: true}, p.reportList))
	mux.Handle("GET /meldungen/{id}", p.page(pageOpts{admin: true}, p.reportShow))
	mux.Handle("POST /meldungen/{id}/schliessen", p.page(pageOpts{admin: true}, p.reportClose))
	p.mountHomework(mux)
	p.mountForum(mux)
	p.mountCalendar(mux)
	if p.opt.Inspect != nil {
		p.mountInspect(mux)
	}
}

// secure sets the headers every portal answer carries.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

type pageOpts struct {
	restricted bool          // allowed while the password must be changed
	module     policy.Module // the module that must be on ("" none)
	admin      bool          // admins only
	auditor    bool          // auditors only (AUDIT-INSPECT)
	// upload: a multipart POST whose first part is the CSRF token and
	// whose file the handler streams (checkUpload), bounded by SIZE-20MB
	// instead of form_body_bytes.
	upload bool
}

// page wraps a handler that needs a session: login, must-change, CSRF on
// every POST, the module switch and the admin role are checked here, once.
func (p *portal) page(o pageOpts, h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := p.lookup(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/", http.StatusSeeOther)
				return
			}
			p.fail(w, r, nil, http.StatusForbidden, texts(p.opt.Language)["err_csrf"])
			return
		}
		if s.ws.MustChange && !o.restricted {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/konto/passwort", http.StatusSeeOther)
				return
			}
			p.fail(w, r, s, http.StatusForbidden, policy.Deny(policy.PWMustChange, "Das Passwort muss zuerst geändert werden.").String())
			return
		}
		if r.Method == http.MethodPost && o.upload {
			var ok bool
			if r, ok = p.checkUpload(w, r, s); !ok {
				p.fail(w, r, s, http.StatusForbidden, p.t(s)["err_csrf"])
				return
			}
		} else if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, p.pol.Bound(policy.FormBodyBytes))
			if err := r.ParseForm(); err != nil {
				d := p.pol.CheckBound(policy.FormBodyBytes, p.pol.Bound(policy.FormBodyBytes)+1)
				p.fail(w, r, s, http.StatusRequestEntityTooLarge, d.String())
				return
			}
			if !sameOrigin(r) || !csrfOK(s.ws.CSRF, r.PostForm.Get("csrf")) {
				p.fail(w, r, s, http.StatusForbidden, p.t(s)["err_csrf"])
				return
			}
		}
		if o.module != "" {
			if d := p.module(s.account, o.module); !d.Allow {
				p.deny(w, r, s, d)
				return
			}
		}
		if o.auditor && s.account.Role != string(policy.Auditor) {
			p.deny(w, r, s, policy.CheckInspectList(policy.Inspector{Name: s.account.Name, Role: policy.Role(s.account.Role)}))
			return
		}
		if o.admin && s.account.Role != string(policy.Admin) {
			p.roleRequired(w, r, s, "err_forbidden")
			return
		}
		h(w, r, s)
	}))
}

// chatOpen: the chat module is on and the account has consented to chat
// (CONSENT-COMMS); otherwise the portal does not offer it.
func (p *portal) chatOpen(a *store.Account) bool {
	return a.ConsentComms && p.module(a, policy.ModuleChat).Allow
}

// module decides MODULE-OFF for an account with the portal's settings.
func (p *portal) module(a *store.Account, m policy.Module) policy.Decision {
	return auth.CheckModule(p.st, p.opt.Modules, a, m, p.log)
}

func (p *portal) lang(s *session) string {
	if s != nil && s.account != nil {
		if l := s.account.Settings["lang"]; l == "de" || l == "en" {
			return l
		}
	}
	return p.opt.Language
}

func (p *portal) t(s *session) map[string]string { return texts(p.lang(s)) }

// view is what every template gets.
type view struct {
	L          map[string]string
	Lang       string
	Title      string
	Me         *store.Account
	MyName     string
	CSRF       string
	Nav        []navItem
	Restricted bool
	Admin      bool
	Reports    int
	Error      string
	Notice     string
	Data       any
	Active     string
}

type navItem struct{ Href, Label, Key string }

func (p *portal) view(s *session, title string, data any) *view {
	v := &view{L: p.t(s), Lang: p.lang(s), Title: title, Data: data}
	if s == nil {
		return v
	}
	v.Me, v.MyName, v.CSRF, v.Restricted = s.account, chatd.DisplayName(s.account), s.ws.CSRF, s.ws.MustChange
	if v.Restricted {
		return v
	}
	v.Nav = append(v.Nav, navItem{"/", v.L["nav_start"], "start"})
	if p.chatOpen(s.account) {
		v.Nav = append(v.Nav, navItem{"/chat", v.L["nav_chat"], "chat"})
	}
	if s.account.ConsentComms && p.module(s.account, policy.ModuleForum).Allow {
		v.Nav = append(v.Nav, navItem{"/forum", v.L["nav_forum"], "forum"})
	}
	if p.module(s.account, policy.ModuleAddressBook).Allow {
		v.Nav = append(v.Nav, navItem{"/adressbuch", v.L["nav_addressbook"], "addressbook"})
	}
	if p.module(s.account, policy.ModuleHomework).Allow {
		v.Nav = append(v.Nav, navItem{"/hausaufgaben", v.L["nav_homework"], "homework"})
	}
	if p.module(s.account, policy.ModuleCalendar).Allow {
		v.Nav = append(v.Nav, navItem{"/kalender", v.L["nav_calendar"], "calendar"})
	}
	v.Nav = append(v.Nav, navItem{"/konto", v.L["nav_account"], "account"})
	if s.account.Role == string(policy.Admin) {
		v.Admin = true
		v.Reports, _ = p.st.OpenReports()
		v.Nav = append(v.Nav, navItem{"/meldungen", v.L["nav_reports"], "reports"})
	}
	if s.account.Role == string(policy.Auditor) && p.opt.Inspect != nil {
		v.Nav = append(v.Nav, navItem{"/einsicht", v.L["nav_inspect"], "inspect"})
	}
	return v
}

func (p *portal) render(w http.ResponseWriter, status int, name string, v *view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := p.tpl[name].ExecuteTemplate(w, "layout.html", v); err != nil {
		p.log.Error("portal: render", "page", name, "err", err)
	}
}

// fail shows an error page with the refusal's text.
func (p *portal) fail(w http.ResponseWriter, r *http.Request, s *session, status int, msg string) {
	v := p.view(s, p.t(s)["app"], nil)
	v.Error = msg
	p.render(w, status, "error", v)
}

// deny answers a refused decision with 403 and its rule (counted by refused).
func (p *portal) deny(w http.ResponseWriter, r *http.Request, s *session, d policy.Decision) {
	p.fail(w, r, s, http.StatusForbidden, p.refused(p.lang(s), d))
}

// roleRequired refuses a page to the wrong role under ROLE-REQUIRED, with
// the catalog text (key) that says who may use it.
func (p *portal) roleRequired(w http.ResponseWriter, r *http.Request, s *session, key string) {
	p.fail(w, r, s, http.StatusForbidden, "["+string(policy.RoleRequired)+"] "+p.t(s)[key])
}

// pathID reads the numeric path parameter key (a thread, task, report or
// inspection id); false means the URL names nothing that can exist.
func pathID(r *http.Request, key string) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue(key), 10, 64)
	return id, err == nil
}

func clientIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}
