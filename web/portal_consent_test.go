package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/policy"
	"schulhof/store"
)

// TestAccountPageShowsConsents: "Mein Konto" shows both consents with the
// day, the signer and the form's version, in German and English; a
// withdrawn comms consent shows its day and chat is gone.
func TestAccountPageShowsConsents(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Mia", "Sommer", policy.Student, false, "5a")
	if _, err := e.st.UpdateAccount(name, func(a *store.Account) error { a.BirthDate = "2012-02-01"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordConsent("office", name, admin.ConsentForm{Scope: policy.ScopePlatform, By: "eltern", Date: "2025-08-20", Form: "2025-07"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordConsent("office", name, admin.ConsentForm{Scope: policy.ScopeComms, By: "beide", Date: "2026-03-02", Form: "2026-01"}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.mustLogin(name)
	_, body := b.do("GET", "/konto", nil)
	for _, want := range []string{
		"Nutzung der Plattform: erteilt (unterschrieben am 2025-08-20 von den Eltern, Formular 2025-07)",
		"E-Mail, Chat und Internet: erteilt (unterschrieben am 2026-03-02 von den Eltern und Ihnen, Formular 2026-01)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("account page lacks %q:\n%s", want, body)
		}
	}
	if _, err := e.svc.WithdrawConsent("office", name, policy.ScopeComms); err != nil {
		t.Fatal(err)
	}
	_, body = b.do("GET", "/konto", nil)
	today := time.Now().UTC().Format("2006-01-02")
	if !strings.Contains(body, "E-Mail, Chat und Internet: widerrufen am "+today+" (unterschrieben am 2026-03-02") {
		t.Errorf("withdrawal not shown:\n%s", body)
	}
	if strings.Contains(body, `href="/chat"`) {
		t.Error("chat still offered after the withdrawal")
	}
	tok := b.csrf("/konto")
	if resp, _ := b.do("POST", "/konto", url.Values{"csrf": {tok}, "lang": {"en"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatal(resp.Status)
	}
	_, body = b.do("GET", "/konto", nil)
	if !strings.Contains(body, "Use of the platform: given (signed on 2025-08-20 by your parents, form 2025-07)") {
		t.Errorf("English account page:\n%s", body)
	}
}
