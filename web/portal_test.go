package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	catalogtexts "schulhof/internal/texts"
	"schulhof/policy"
	"schulhof/store"
)

func TestLoginSetsHostCookieAndShowsModules(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false, "5a")
	b := e.browser()
	tok := b.csrf("/")
	resp, _ := b.do("POST", "/anmelden", url.Values{"csrf": {tok}, "account": {name}, "password": {testPW}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v", resp.Status)
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == sessionCookie {
			c = k
		}
	}
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || len(c.Value) != 43 {
		t.Fatalf("session cookie: %+v", c)
	}
	resp, body := b.do("GET", "/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/chat"`) || !strings.Contains(body, "max.mueller@schule.test") {
		t.Fatalf("start page: %v %s", resp.Status, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP: %q", csp)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
		t.Fatal("inline script or style on the start page")
	}
	// the store keeps only the hash of the ID
	if _, err := e.st.SessionByKey(c.Value); err == nil {
		t.Fatal("raw session ID usable as store key")
	}
	// wrong password: refused with its rule, no session
	b2 := e.browser()
	resp = b2.login(name, "wrong")
	if resp.StatusCode != http.StatusForbidden || b2.cookies[sessionCookie] != "" {
		t.Fatalf("wrong password: %v %v", resp.Status, b2.cookies)
	}
}

func TestCSRFOnEveryForm(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false)
	b := e.browser()
	// login without the token
	b.do("GET", "/", nil)
	if resp, _ := b.do("POST", "/anmelden", url.Values{"account": {name}, "password": {testPW}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without token: %v", resp.Status)
	}
	b.mustLogin(name)
	posts := map[string]url.Values{
		"/konto":                   {"nickname": {"Hacker"}, "lang": {"de"}},
		"/konto/abmelden-ueberall": {},
		"/abmelden":                {},
		"/konto/passwort":          {"current": {testPW}, "new": {"N3w!Passwort"}, "repeat": {"N3w!Passwort"}},
		"/meldungen/1/schliessen":  {},
	}
	for path, form := range posts {
		if resp, _ := b.do("POST", path, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without token: %v", path, resp.Status)
		}
		form.Set("csrf", "forged-token")
		if resp, _ := b.do("POST", path, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: %v", path, resp.Status)
		}
	}
	// the right token from another site's page
	tok := b.csrf("/konto")
	b.origin = "https://evil.example"
	if resp, _ := b.do("POST", "/konto", url.Values{"csrf": {tok}, "nickname": {"Hacker"}, "lang": {"de"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %v", resp.Status)
	}
	a, _ := e.st.Account(name)
	if a.Nickname != "" {
		t.Fatal("a refused form changed the account")
	}
	if l, _ := e.st.SessionsOf(name); len(l) != 1 {
		t.Fatalf("a refused logout ended sessions: %d", len(l))
	}
}

func TestSessionFixationAndForgedCookies(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false)
	b := e.browser()
	planted := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 43 chars, as a real ID
	b.cookies[sessionCookie] = planted
	if resp, _ := b.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("forged cookie accepted: %v", resp.Status)
	}
	b.cookies[sessionCookie] = planted
	b.mustLogin(name)
	if b.cookies[sessionCookie] == planted {
		t.Fatal("login kept the planted session ID")
	}
	// a valid session presented at a new login is replaced and ends
	first := b.cookies[sessionCookie]
	b2 := e.browser()
	tok := b2.csrf("/")
	b2.cookies[sessionCookie] = first
	if resp, _ := b2.do("POST", "/anmelden", url.Values{"csrf": {tok}, "account": {name}, "password": {testPW}}); resp.StatusCode != http.StatusSeeOther || b2.cookies[sessionCookie] == first {
		t.Fatalf("second login: %v", resp.Status)
	}
	old := e.browser()
	old.cookies[sessionCookie] = first
	if resp, _ := old.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("session ID not rotated at login")
	}
	for _, v := range []string{"", "x", strings.Repeat("A", 500), first + "x"} {
		f := e.browser()
		f.cookies[sessionCookie] = v
		if resp, _ := f.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("cookie %q: %v", v, resp.Status)
		}
		if _, resp, err := f.dial(); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("websocket with cookie %q: %v %v", v, err, resp)
		}
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newPortalEnv(t, func(o *PortalOptions) { o.SessionIdle, o.SessionMax = 30*time.Minute, 2*time.Hour })
	name := e.user("Max", "Müller", policy.Student, false)
	b := e.browser()
	b.mustLogin(name)
	// used every 20 minutes: alive until the absolute limit
	for i := 0; i < 5; i++ {
		e.advance(20 * time.Minute)
		if resp, _ := b.do("GET", "/konto", nil); resp.StatusCode != 200 {
			t.Fatalf("active session ended after %d×20 min: %v", i+1, resp.Status)
		}
	}
	e.advance(25 * time.Minute) // 125 min since login
	if resp, _ := b.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("session outlived its absolute lifetime")
	}
	b.mustLogin(name)
	e.advance(31 * time.Minute)
	if resp, _ := b.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("idle session still valid")
	}
	if _, resp, err := b.dial(); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("websocket with an expired session: %v", err)
	}
}

func TestMustChangeSeesOnlyThePasswordPage(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Zoe", "Groß", policy.Student, true, "5a")
	b := e.browser()
	b.mustLogin(name)
	for _, p := range []string{"/", "/konto", "/adressbuch", "/chat", "/gruppe/5a"} {
		resp, _ := b.do("GET", p, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/konto/passwort" {
			t.Errorf("GET %s while must-change: %v %s", p, resp.Status, resp.Header.Get("Location"))
		}
	}
	if _, resp, err := b.dial(); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("websocket while must-change: %v", err)
	}
	tok := b.csrf("/konto/passwort")
	resp, body := b.do("POST", "/konto/passwort", url.Values{"csrf": {tok}, "current": {testPW}, "new": {"kurz"}, "repeat": {"kurz"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "[PW-STRENGTH]") {
		t.Fatalf("weak password: %v %s", resp.Status, body)
	}
	before := b.cookies[sessionCookie]
	resp, _ = b.do("POST", "/konto/passwort", url.Values{"csrf": {tok}, "current": {testPW}, "new": {"Neu!Passw0rt"}, "repeat": {"Neu!Passw0rt"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %v", resp.Status)
	}
	if b.cookies[sessionCookie] == before || b.cookies[sessionCookie] == "" {
		t.Fatal("session ID not rotated at password change")
	}
	if resp, _ := b.do("GET", "/adressbuch", nil); resp.StatusCode != 200 {
		t.Fatalf("after the change: %v", resp.Status)
	}
	old := e.browser()
	old.cookies[sessionCookie] = before
	if resp, _ := old.do("GET", "/konto/passwort", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("the pre-change session survived")
	}
}

func TestLockAndAdminResetEndSessions(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false)
	b1, b2 := e.browser(), e.browser()
	b1.mustLogin(name)
	b2.mustLogin(name)
	if err := e.svc.Lock("test", name, "Test"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b1.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("locked account's session still valid")
	}
	e.svc.Unlock("test", name)
	if _, err := e.svc.ResetPassword("test", name); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b2.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("session survived an admin password reset")
	}
}

func TestModuleOffIsGoneAnd403(t *testing.T) {
	e := newPortalEnv(t, func(o *PortalOptions) {
		o.Modules = map[policy.Module]policy.ModuleSetting{
			policy.ModuleChat:        {On: true, Groups: []string{"5b"}},
			policy.ModuleAddressBook: {On: false},
			policy.ModuleMail:        {On: true},
		}
	})
	name := e.user("Max", "Müller", policy.Student, false, "5a")
	b := e.browser()
	b.mustLogin(name)
	_, body := b.do("GET", "/", nil)
	if strings.Contains(body, `href="/chat"`) || strings.Contains(body, `href="/adressbuch"`) {
		t.Fatalf("switched-off modules on the start page: %s", body)
	}
	for _, p := range []string{"/chat", "/adressbuch", "/gruppe/5a"} {
		resp, body := b.do("GET", p, nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[MODULE-OFF]") {
			t.Errorf("GET %s: %v", p, resp.Status)
		}
	}
	if _, resp, err := b.dial(); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("chat socket with chat off: %v %v", err, resp)
	}
	// a member of 5b has chat
	other := e.user("Eva", "Lang", policy.Student, false, "5b")
	b2 := e.browser()
	b2.mustLogin(other)
	if resp, _ := b2.do("GET", "/chat", nil); resp.StatusCode != 200 {
		t.Fatalf("chat for 5b: %v", resp.Status)
	}
}

func TestUserTextIsInertInPages(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false, "5a")
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	e.st.UpdateAccount(name, func(a *store.Account) error {
		a.Nickname = evil
		a.Settings = map[string]string{"status": evil}
		return nil
	})
	b := e.browser()
	b.mustLogin(name)
	for _, p := range []string{"/adressbuch", "/adressbuch?teil=1&q=max", "/gruppe/5a", "/konto", "/"} {
		_, body := b.do("GET", p, nil)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s renders user text as HTML", p)
		}
	}
	_, body := b.do("GET", "/adressbuch?teil=1&q=m%C3%BCller", nil)
	if !strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("search as you type: %s", body)
	}
}

func TestAccountPageAndLanguage(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false, "5a")
	b := e.browser()
	b.mustLogin(name)
	e.auth.Flush()
	_, body := b.do("GET", "/konto", nil)
	if !strings.Contains(body, "Ihre letzten Anmeldungen") || !strings.Contains(body, "<td>web</td>") {
		t.Fatalf("account page: %s", body)
	}
	tok := b.csrf("/konto")
	resp, _ := b.do("POST", "/konto", url.Values{"csrf": {tok}, "nickname": {"Maxi"}, "color": {"#1565c0"}, "lang": {"en"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %v", resp.Status)
	}
	_, body = b.do("GET", "/konto", nil)
	if !strings.Contains(body, "My account") || !strings.Contains(body, `value="Maxi"`) {
		t.Fatal("language or nickname not saved")
	}
	resp, body = b.do("POST", "/konto", url.Values{"csrf": {tok}, "nickname": {strings.Repeat("x", 41)}, "lang": {"en"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "[LIMIT-NAME]") {
		t.Fatalf("long nickname: %v", resp.Status)
	}
	tok = b.csrf("/konto/passwort")
	_, body = b.do("POST", "/konto/passwort", url.Values{"csrf": {tok}, "current": {testPW}, "new": {"short"}, "repeat": {"short"}})
	if !strings.Contains(body, "[PW-STRENGTH] The password is too weak") {
		t.Fatalf("PW-STRENGTH not in English: %s", body)
	}
	// log out everywhere
	other := e.browser()
	other.mustLogin(name)
	tok = b.csrf("/konto")
	b.do("POST", "/konto/abmelden-ueberall", url.Values{"csrf": {tok}})
	for _, x := range []*browser{b, other} {
		if resp, _ := x.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatal("a session survived 'log out everywhere'")
		}
	}
}

func TestCatalogComplete(t *testing.T) {
	for k := range catalogtexts.Of("de") {
		if catalogtexts.Of("en")[k] == "" {
			t.Errorf("English text missing: %s", k)
		}
	}
	for k := range catalogtexts.Of("en") {
		if catalogtexts.Of("de")[k] == "" {
			t.Errorf("German text missing: %s", k)
		}
	}
	for _, k := range chatKeys {
		if catalogtexts.Of("de")[k] == "" {
			t.Errorf("chat text %s not in the catalog", k)
		}
	}
}

func TestReportsOnlyForAdminsAndAudited(t *testing.T) {
	e := newPortalEnv(t, nil)
	st := e.user("Max", "Müller", policy.Student, false, "5a")
	adm := e.user("Ada", "Admin", policy.Admin, false)
	room := store.GroupRoomID("5a")
	m, _ := e.st.PostMessage(room, st, "geheim", time.Now(), nil)
	id, _ := e.st.CreateReport(room, m.Seq, st, "Grund", 5, time.Now(), nil)
	b := e.browser()
	b.mustLogin(st)
	if resp, _ := b.do("GET", "/meldungen/1", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("student reads a report: %v", resp.Status)
	}
	a := e.browser()
	a.mustLogin(adm)
	_, body := a.do("GET", "/meldungen", nil)
	if !strings.Contains(body, `href="/meldungen/1"`) || strings.Contains(body, "geheim") || !strings.Contains(body, `class="badge"`) {
		t.Fatalf("list: %s", body)
	}
	before, _ := e.st.AuditLog(time.Time{})
	_, body = a.do("GET", "/meldungen/1", nil)
	if !strings.Contains(body, "geheim") {
		t.Fatal("report content not shown")
	}
	after, _ := e.st.AuditLog(time.Time{})
	if len(after) != len(before)+1 || after[len(after)-1].Action != "report.read" || after[len(after)-1].Actor != adm {
		t.Fatalf("read not audited: %+v", after[len(before):])
	}
	tok := a.csrf("/meldungen/1")
	if resp, _ := a.do("POST", "/meldungen/1/schliessen", url.Values{"csrf": {tok}, "note": {"ok"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %v", resp.Status)
	}
	if n, _ := e.st.OpenReports(); n != 0 || id != 1 {
		t.Fatal("not closed")
	}
}

// Every text a template asks for is in the catalog (a missing key would
// render as nothing).
func TestTemplatesUseOnlyCatalogKeys(t *testing.T) {
	re := regexp.MustCompile(`\.L\.([a-z_]+)`)
	files, _ := templateFS.ReadDir("templates")
	for _, f := range files {
		raw, _ := templateFS.ReadFile("templates/" + f.Name())
		for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
			if catalogtexts.Of("de")[m[1]] == "" || catalogtexts.Of("en")[m[1]] == "" {
				t.Errorf("%s: text %q not in the catalog", f.Name(), m[1])
			}
		}
	}
}

func TestNoChatWithoutCommsConsent(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false, "5a")
	e.st.UpdateAccount(name, func(a *store.Account) error { a.ConsentComms = false; return nil })
	b := e.browser()
	b.mustLogin(name)
	if _, body := b.do("GET", "/", nil); strings.Contains(body, `href="/chat"`) {
		t.Fatal("chat offered without consent")
	}
	if resp, body := b.do("GET", "/chat", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[CONSENT-COMMS]") {
		t.Fatalf("chat page: %v", resp.Status)
	}
	if _, resp, err := b.dial(); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("socket: %v", err)
	}
}

func TestEndOneSession(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false)
	other := e.user("Eva", "Lang", policy.Student, false)
	phone, pc, eva := e.browser(), e.browser(), e.browser()
	phone.mustLogin(name)
	pc.mustLogin(name)
	eva.mustLogin(other)
	phoneKey := store.SessionKey(phone.cookies[sessionCookie])
	evaKey := store.SessionKey(eva.cookies[sessionCookie])
	tok := pc.csrf("/konto")
	// another account's session cannot be ended
	if resp, _ := pc.do("POST", "/konto/sitzung-beenden", url.Values{"csrf": {tok}, "key": {evaKey}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("ending another's session: %v", resp.Status)
	}
	if resp, _ := eva.do("GET", "/konto", nil); resp.StatusCode != 200 {
		t.Fatal("another account's session ended")
	}
	if resp, _ := pc.do("POST", "/konto/sitzung-beenden", url.Values{"csrf": {tok}, "key": {phoneKey}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end: %v", resp.Status)
	}
	if resp, _ := phone.do("GET", "/konto", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("the phone's session survived")
	}
	if resp, _ := pc.do("GET", "/konto", nil); resp.StatusCode != 200 {
		t.Fatal("the PC's own session ended")
	}
}

// TestFormBodyBound: a form post over form_body_bytes is refused with 413
// naming LIMIT-BODY before anything of it is used.
func TestFormBodyBound(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false)
	b := e.browser()
	b.mustLogin(name)
	tok := b.csrf("/konto")
	huge := strings.Repeat("x", int(policy.NewEngine().Bound(policy.FormBodyBytes)))
	resp, body := b.do("POST", "/konto", url.Values{"csrf": {tok}, "nickname": {huge}, "lang": {"de"}})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "[LIMIT-BODY]") {
		t.Fatalf("oversized form: %v %q", resp.Status, body[:min(len(body), 300)])
	}
	if a, _ := e.st.Account(name); a.Nickname != "" {
		t.Fatal("an oversized form changed the account")
	}
}

// TestVoluntaryDataBounds: nickname and status over their bounds are
// refused naming the bound; nothing is stored.
func TestVoluntaryDataBounds(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false)
	b := e.browser()
	b.mustLogin(name)
	eng := policy.NewEngine()
	for _, c := range []struct {
		field string
		key   policy.BoundKey
	}{{"nickname", policy.NicknameBytes}, {"status", policy.SettingBytes}} {
		form := url.Values{"csrf": {b.csrf("/konto")}, "lang": {"de"}, c.field: {strings.Repeat("y", int(eng.Bound(c.key))+1)}}
		resp, body := b.do("POST", "/konto", form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, string(c.key)) {
			t.Errorf("%s over the bound: %v", c.field, resp.Status)
		}
	}
	if a, _ := e.st.Account(name); a.Nickname != "" {
		t.Fatal("a refused form changed the account")
	}
}
