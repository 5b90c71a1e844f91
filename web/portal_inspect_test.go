package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"schulhof/policy"
	"schulhof/store"
)

// TestPortalInspection: an auditor requests in the portal, cannot approve
// her own request; an admin gets no inspection page at all; a second
// auditor approves, the person has the notice in the INBOX, and both
// auditors (only they) see the data, read-only, with no-store.
func TestPortalInspection(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	anna := e.user("Anna", "Prüf", policy.Auditor, false)
	bert := e.user("Bert", "Prüf", policy.Auditor, false)
	carl := e.user("Carl", "Prüf", policy.Auditor, false)
	root := e.user("Rita", "Root", policy.Admin, false)

	adm := e.browser()
	adm.mustLogin(root)
	for _, path := range []string{"/einsicht", "/einsicht/1"} {
		if resp, body := adm.do("GET", path, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "AUDIT-INSPECT") {
			t.Fatalf("admin GET %s: %d\n%s", path, resp.StatusCode, body)
		}
	}
	if _, body := adm.do("GET", "/", nil); strings.Contains(body, `href="/einsicht"`) {
		t.Fatal("admin's navigation offers the inspection page")
	}

	a := e.browser()
	a.mustLogin(anna)
	if _, body := a.do("GET", "/", nil); !strings.Contains(body, `href="/einsicht"`) {
		t.Fatal("auditor's navigation lacks the inspection page")
	}
	tok := a.csrf("/einsicht")
	form := url.Values{"csrf": {tok}, "person": {max}, "scope": {"mail"}, "reason": {"Verdacht auf Bedrohung"}, "case": {"AZ-77"}}
	if resp, body := a.do("POST", "/einsicht", url.Values{"csrf": {tok}, "person": {max}, "scope": {"mail"}, "reason": {""}, "case": {"AZ-77"}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "AUDIT-INSPECT") {
		t.Fatalf("request without reason: %d", resp.StatusCode)
	}
	if resp, _ := a.do("POST", "/einsicht", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("request: %d", resp.StatusCode)
	}
	_, body := a.do("GET", "/einsicht", nil)
	if !strings.Contains(body, "AZ-77") || !strings.Contains(body, "eine zweite Person muss genehmigen") || strings.Contains(body, "/einsicht/1/genehmigen") {
		t.Fatalf("list for the requester:\n%s", body)
	}
	if resp, body := a.do("POST", "/einsicht/1/genehmigen", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "AUDIT-INSPECT") {
		t.Fatalf("self-approval: %d", resp.StatusCode)
	}
	if resp, _ := a.do("GET", "/einsicht/1", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("view before approval: %d", resp.StatusCode)
	}
	if m, err := e.st.MailboxByName(max, store.Inbox); err == nil && m.Messages != 0 {
		t.Fatal("notice before approval")
	}

	b := e.browser()
	b.mustLogin(bert)
	tokB := b.csrf("/einsicht")
	if resp, _ := b.do("POST", "/einsicht/1/genehmigen", url.Values{"csrf": {tokB}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approval: %d", resp.StatusCode)
	}
	m, err := e.st.MailboxByName(max, store.Inbox)
	if err != nil || m.Messages != 1 {
		t.Fatalf("notice in INBOX: %+v %v", m, err)
	}
	for _, br := range []*browser{a, b} {
		resp, body := br.do("GET", "/einsicht/1", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Hinweis: Einsicht in Ihre Daten (Aktenzeichen AZ-77)") || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("view: %d %q\n%s", resp.StatusCode, resp.Header.Get("Cache-Control"), body)
		}
	}
	c := e.browser()
	c.mustLogin(carl)
	if resp, body := c.do("GET", "/einsicht/1", nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "AUDIT-INSPECT") {
		t.Fatalf("third auditor's view: %d", resp.StatusCode)
	}
	if resp, _ := adm.do("GET", "/einsicht/1", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin's view after approval: %d", resp.StatusCode)
	}
	tokA := a.csrf("/einsicht/1")
	if resp, _ := a.do("POST", "/einsicht/1/schliessen", url.Values{"csrf": {tokA}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/einsicht/1", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("view after closing: %d", resp.StatusCode)
	}
	if _, body := b.do("GET", "/einsicht", nil); !strings.Contains(body, "abgeschlossen") {
		t.Fatalf("list after closing:\n%s", body)
	}
	recs, _ := e.st.AuditLog(e.clock().AddDate(0, 0, -1))
	seen := map[string]bool{}
	for _, r := range recs {
		seen[r.Action+" "+r.Actor] = true
	}
	for _, want := range []string{"inspect.request " + anna, "inspect.approve.refused " + anna, "inspect.approve " + bert,
		"inspect.notice " + bert, "inspect.view " + anna, "inspect.view " + bert, "inspect.view.refused " + carl, "inspect.close " + anna} {
		if !seen[want] {
			t.Errorf("no audit record %q", want)
		}
	}
}
