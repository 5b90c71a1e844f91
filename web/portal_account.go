package web

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"schulhof/policy"
	"schulhof/store"
)

type accountData struct {
	Groups   []string
	Role     string
	Logins   []store.LoginRecord
	Sessions []store.WebSession
	ThisKey  string
	Colors   []string
	Status   string
	Langs    []string
	Consents []consentView
}

// consentView is one consent on "Mein Konto": given or not, and from the
// school's record the day, the signer and the form's version.
type consentView struct {
	Label     string // catalog key of the consent's name
	Given     bool
	On, By    string // By is a catalog key (consent_by_…)
	Form      string
	Withdrawn string
}

func consentViews(a *store.Account) []consentView {
	one := func(label string, given bool, r *store.ConsentRecord) consentView {
		v := consentView{Label: label, Given: given}
		if r != nil && r.GivenOn != "" {
			v.On, v.By, v.Form = r.GivenOn, "consent_by_"+r.GivenBy, r.Form
		}
		if r != nil && !r.WithdrawnAt.IsZero() {
			v.Withdrawn = r.WithdrawnAt.Format("2006-01-02")
		}
		return v
	}
	return []consentView{
		one("acct_consent_platform", a.ConsentPlatform, a.PlatformConsent),
		one("acct_consent_comms", a.ConsentComms, a.CommsConsent),
	}
}

// colours a user may pick (readable on white as text and as a dot).
var colors = []string{"", "#b00020", "#c05600", "#2e7d32", "#00695c", "#1565c0", "#4527a0", "#6a1b9a", "#37474f"}

func (p *portal) accountData(s *session) accountData {
	d := accountData{Role: roleText(p.t(s), s.account.Role), ThisKey: s.ws.Key, Colors: colors,
		Status: s.account.Settings["status"], Langs: []string{"de", "en"}, Consents: consentViews(s.account)}
	if gs, err := p.st.GroupsOf(s.account.Name); err == nil {
		for _, g := range gs {
			d.Groups = append(d.Groups, g.Name)
		}
	}
	logins, _ := p.st.LoginLog(s.account.Name, p.now().Add(-400*24*time.Hour))
	for i := len(logins) - 1; i >= 0 && len(d.Logins) < 20; i-- {
		d.Logins = append(d.Logins, logins[i])
	}
	d.Sessions, _ = p.st.SessionsOf(s.account.Name)
	slices.SortFunc(d.Sessions, func(a, b store.WebSession) int { return b.LastSeen.Compare(a.LastSeen) })
	return d
}

func (p *portal) accountPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := p.view(s, p.t(s)["acct_title"], p.accountData(s))
	v.Active = "account"
	if r.URL.Query().Get("ok") == "1" {
		v.Notice = v.L["acct_saved"]
	}
	p.render(w, http.StatusOK, "account", v)
}

var colorRE = regexp.MustCompile(`^(#[0-9a-f]{6})?$`)

// accountSave stores the voluntary data: nickname, colour, language,
// status; each optional and bounded.
func (p *portal) accountSave(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	nick := strings.TrimSpace(f.Get("nickname"))
	status := strings.TrimSpace(f.Get("status"))
	color := f.Get("color")
	lang := f.Get("lang")
	refuse := func(d policy.Decision) {
		v := p.view(s, p.t(s)["acct_title"], p.accountData(s))
		v.Error = p.refused(p.lang(s), d)
		p.render(w, http.StatusUnprocessableEntity, "account", v)
	}
	if d := p.pol.CheckBound(policy.NicknameBytes, int64(len(nick))); !d.Allow {
		refuse(d)
		return
	}
	if d := p.pol.CheckBound(policy.SettingBytes, int64(len(status))); !d.Allow {
		refuse(d)
		return
	}
	if !utf8.ValidString(nick+status) || strings.ContainsFunc(nick+status, func(r rune) bool { return r < ' ' }) {
		refuse(policy.Deny(policy.LimitName, "Nur Text ohne Steuerzeichen."))
		return
	}
	if !colorRE.MatchString(color) || (lang != "de" && lang != "en") {
		refuse(policy.Deny(policy.LimitName, "Ungültige Auswahl."))
		return
	}
	_, err := p.st.UpdateAccount(s.account.Name, func(a *store.Account) error {
		a.Nickname, a.Color = nick, color
		if a.Settings == nil {
			a.Settings = map[string]string{}
		}
		a.Settings["lang"] = lang
		if status == "" {
			delete(a.Settings, "status")
		} else {
			a.Settings["status"] = status
		}
		return nil
	})
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	http.Redirect(w, r, "/konto?ok=1", http.StatusSeeOther)
}

// logoutEverywhere ends every session of the account, this one included;
// its WebSockets close at once (chatd re-checks on the feed event).
func (p *portal) logoutEverywhere(w http.ResponseWriter, r *http.Request, s *session) {
	if _, err := p.st.DeleteSessionsOf(s.account.Name, ""); err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// endSession ends one of the account's own sessions (another browser).
func (p *portal) endSession(w http.ResponseWriter, r *http.Request, s *session) {
	key := r.PostForm.Get("key")
	list, _ := p.st.SessionsOf(s.account.Name)
	for _, ws := range list {
		if ws.Key == key {
			p.st.DeleteSession(key)
			if key == s.ws.Key {
				setCookie(w, sessionCookie, "", -1)
				http.Redirect(w, r, "/", http.StatusSeeOther)
				return
			}
			http.Redirect(w, r, "/konto", http.StatusSeeOther)
			return
		}
	}
	p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"]) // not one of hers
}
