package web

import (
	"net/http"

	"schulhof/internal/auth"
	"schulhof/policy"
)

// root is the start page with a session and the login page without.
func (p *portal) root(w http.ResponseWriter, r *http.Request) {
	s, ok := p.lookup(r)
	if !ok {
		p.loginPage(w, r, http.StatusOK, "", "")
		return
	}
	if s.ws.MustChange {
		http.Redirect(w, r, "/konto/passwort", http.StatusSeeOther)
		return
	}
	p.startPage(w, r, s)
}

type loginData struct{ Account, Token string }

// loginPage sets a fresh login token (double-submit: cookie and form
// field must match) and shows the form.
func (p *portal) loginPage(w http.ResponseWriter, r *http.Request, status int, account, msg string) {
	token := randomID()
	setCookie(w, loginCookie, token, 3600)
	v := p.view(nil, texts(p.opt.Language)["login_title"], loginData{Account: account, Token: token})
	v.Error = msg
	p.render(w, status, "login", v)
}

// login checks the password through auth.Verify (the same throttle, lock
// and consent rules as mail and files) and opens a new session; an
// account that must change its password gets a session for that alone.
func (p *portal) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, p.pol.Bound(policy.FormBodyBytes))
	if err := r.ParseForm(); err != nil {
		p.loginPage(w, r, http.StatusBadRequest, "", texts(p.opt.Language)["err_csrf"])
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameOrigin(r) || !csrfOK(c.Value, r.PostForm.Get("csrf")) {
		p.loginPage(w, r, http.StatusForbidden, "", texts(p.opt.Language)["err_csrf"])
		return
	}
	name := r.PostForm.Get("account")
	a, d := p.auth.Verify(r.Context(), auth.Attempt{Name: name, Password: r.PostForm.Get("password"),
		Protocol: "web", IP: clientIP(r), Service: policy.ServiceWeb, Purpose: policy.PurposeChangePassword})
	if !d.Allow {
		status := http.StatusForbidden
		if d.Rule == policy.AuthThrottle {
			status = http.StatusTooManyRequests
		}
		p.loginPage(w, r, status, name, p.refused(p.opt.Language, d))
		return
	}
	if _, err := p.startSession(w, r, a); err != nil {
		p.log.ErrorContext(r.Context(), "portal: session", "err", err)
		p.loginPage(w, r, http.StatusInternalServerError, name, texts(p.opt.Language)["err_internal"])
		return
	}
	setCookie(w, loginCookie, "", -1)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (p *portal) logout(w http.ResponseWriter, r *http.Request, s *session) {
	p.st.DeleteSession(s.ws.Key)
	setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type tile struct {
	Href, Title, Desc, Detail string
}

func (p *portal) startPage(w http.ResponseWriter, r *http.Request, s *session) {
	t := p.t(s)
	var tiles []tile
	for _, m := range policy.Modules {
		if !p.module(s.account, m).Allow || ((m == policy.ModuleChat || m == policy.ModuleForum) && !s.account.ConsentComms) {
			continue
		}
		switch m {
		case policy.ModuleChat:
			tiles = append(tiles, tile{Href: "/chat", Title: t["mod_chat"], Desc: t["mod_chat_desc"]})
		case policy.ModuleForum:
			tiles = append(tiles, tile{Href: "/forum", Title: t["mod_forum"], Desc: t["mod_forum_desc"]})
		case policy.ModuleAddressBook:
			tiles = append(tiles, tile{Href: "/adressbuch", Title: t["mod_addressbook"], Desc: t["mod_addressbook_desc"]})
		case policy.ModuleHomework:
			tiles = append(tiles, tile{Href: "/hausaufgaben", Title: t["mod_homework"], Desc: t["mod_homework_desc"]})
		case policy.ModuleCalendar:
			tiles = append(tiles, tile{Href: "/kalender", Title: t["mod_calendar"], Desc: t["mod_calendar_desc"],
				Detail: "CalDAV: https://" + r.Host + "/.well-known/caldav"})
		case policy.ModuleMail:
			tiles = append(tiles, tile{Title: t["mod_mail"], Desc: t["mod_mail_desc"] + s.account.Name + "@" + p.opt.Domain, Detail: t["mod_mail_howto"]})
		case policy.ModuleFiles:
			tiles = append(tiles, tile{Title: t["mod_files"], Desc: t["mod_files_desc"], Detail: "https://" + r.Host + "/dav/"})
		}
	}
	v := p.view(s, t["start_title"], tiles)
	v.Active = "start"
	if r.URL.Query().Get("pw") == "ok" {
		v.Notice = t["pw_done"]
	}
	p.render(w, http.StatusOK, "start", v)
}

func (p *portal) passwordForm(w http.ResponseWriter, r *http.Request, s *session) {
	v := p.view(s, p.t(s)["pw_title"], nil)
	v.Active = "account"
	p.render(w, http.StatusOK, "password", v)
}

// passwordChange changes the password through auth.ChangePassword, then
// rotates the session ID and ends every other session of the account.
func (p *portal) passwordChange(w http.ResponseWriter, r *http.Request, s *session) {
	t := p.t(s)
	v := p.view(s, t["pw_title"], nil)
	v.Active = "account"
	if r.PostForm.Get("new") != r.PostForm.Get("repeat") {
		v.Error = t["pw_mismatch"]
		p.render(w, http.StatusUnprocessableEntity, "password", v)
		return
	}
	d := p.auth.ChangePassword(r.Context(), auth.Attempt{Name: s.account.Name, Password: r.PostForm.Get("current"),
		Protocol: "web", IP: clientIP(r), Service: policy.ServiceWeb}, r.PostForm.Get("new"))
	if !d.Allow {
		v.Error = p.refused(p.lang(s), d)
		p.render(w, passwordStatus(w, d), "password", v)
		return
	}
	a, err := p.st.Account(s.account.Name)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, t["err_internal"])
		return
	}
	key, err := p.startSession(w, r, a)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, t["err_internal"])
		return
	}
	p.st.DeleteSessionsOf(a.Name, key)
	http.Redirect(w, r, "/?pw=ok", http.StatusSeeOther)
}
