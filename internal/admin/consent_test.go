package admin

import (
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

func TestRecordConsentSignerByAge(t *testing.T) {
	s := newService(t)
	s.Now = func() time.Time { return time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC) }
	c, err := s.AddUser("admin1", NewUser{First: "Lea", Last: "Klein"})
	if err != nil {
		t.Fatal(err)
	}
	name := c.Account.Name
	setBirth := func(d string) {
		t.Helper()
		if _, err := s.Store.UpdateAccount(name, func(a *store.Account) error { a.BirthDate = d; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	form := func(scope policy.ConsentScope, by, date string) ConsentForm {
		return ConsentForm{Scope: scope, By: by, Date: date, Form: "2026-08"}
	}
	// 12 years old on the day: the parents sign; the pupil alone is refused.
	setBirth("2014-03-01")
	if _, err := s.RecordConsent("admin1", name, form(policy.ScopePlatform, "schueler", "2026-09-01")); err == nil || !strings.Contains(err.Error(), "[CONSENT-PLATFORM]") || !strings.Contains(err.Error(), "unter 14") {
		t.Fatalf("pupil of 12 signing alone: %v", err)
	}
	if _, err := s.RecordConsent("admin1", name, form(policy.ScopeComms, "schueler", "2026-09-01")); err == nil || !strings.Contains(err.Error(), "[CONSENT-COMMS]") {
		t.Fatalf("comms, pupil of 12 signing alone: %v", err)
	}
	a, err := s.RecordConsent("admin1", name, form(policy.ScopePlatform, "eltern", "2026-09-01"))
	if err != nil {
		t.Fatal(err)
	}
	r := a.PlatformConsent
	if !a.ConsentPlatform || r == nil || r.GivenOn != "2026-09-01" || r.GivenBy != "eltern" || r.Form != "2026-08" || r.RecordedBy != "admin1" || r.RecordedAt.IsZero() || !r.WithdrawnAt.IsZero() {
		t.Fatalf("record %+v", a)
	}
	if a.PasswordHash != "" {
		t.Fatal("hash leaves the service")
	}
	// 15: parents alone are refused, both accepted.
	setBirth("2011-01-10")
	if _, err := s.RecordConsent("admin1", name, form(policy.ScopeComms, "eltern", "2026-09-01")); err == nil || !strings.Contains(err.Error(), "[CONSENT-COMMS]") || !strings.Contains(err.Error(), "14 bis 17") {
		t.Fatalf("parents alone for 15: %v", err)
	}
	if _, err := s.RecordConsent("admin1", name, form(policy.ScopeComms, "beide", "2026-09-01")); err != nil {
		t.Fatal(err)
	}
	// bad input
	for _, f := range []ConsentForm{
		form(policy.ScopePlatform, "lehrer", "2026-09-01"),
		form(policy.ScopePlatform, "beide", "01.09.2026"),
		form(policy.ScopePlatform, "beide", "2027-01-01"), // in the future
		{Scope: policy.ScopePlatform, By: "beide", Date: "2026-09-01"},
	} {
		if _, err := s.RecordConsent("admin1", name, f); err == nil {
			t.Errorf("accepted %+v", f)
		}
	}
	if _, err := s.RecordConsent("admin1", "no.body", form(policy.ScopePlatform, "beide", "2026-09-01")); err == nil || !strings.Contains(err.Error(), "unknown user") {
		t.Fatalf("unknown user: %v", err)
	}
	// A teacher signs herself.
	tc, _ := s.AddUser("admin1", NewUser{First: "Eva", Last: "Lang", Role: policy.Teacher})
	if _, err := s.RecordConsent("admin1", tc.Account.Name, form(policy.ScopePlatform, "eltern", "2026-09-01")); err == nil {
		t.Fatal("parents signing for a teacher accepted")
	}
	if _, err := s.RecordConsent("admin1", tc.Account.Name, form(policy.ScopePlatform, "selbst", "2026-09-01")); err != nil {
		t.Fatal(err)
	}

	info, err := s.ShowConsent(name)
	if err != nil || len(info.Consents) != 2 || !info.Consents[0].Given || !info.Consents[1].Given || info.Consents[1].Record.GivenBy != "beide" || !strings.Contains(info.Needed, "Eltern und Schüler/in") {
		t.Fatalf("show %+v %v", info, err)
	}
	// Every change is audited, refusals are not changes.
	log, _ := s.Store.AuditLog(time.Time{})
	n := 0
	for _, r := range log {
		if r.Action == "consent.record" {
			n++
			if r.Actor != "admin1" || r.Target == "" || !strings.Contains(r.Detail, "form=2026-08") {
				t.Errorf("audit %+v", r)
			}
		}
	}
	if n != 3 {
		t.Fatalf("%d consent.record audit entries, want 3", n)
	}
}

func TestWithdrawCommsConsent(t *testing.T) {
	s := newService(t)
	c, _ := s.AddUser("admin1", NewUser{First: "Lea", Last: "Klein"})
	name := c.Account.Name
	w, err := s.WithdrawConsent("admin2", name, policy.ScopeComms)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.Store.Account(name)
	if a.ConsentComms || !a.ConsentPlatform || a.CommsConsent == nil || a.CommsConsent.WithdrawnBy != "admin2" || !a.CommsConsent.WithdrawnAt.Equal(w.At) {
		t.Fatalf("after withdrawal %+v", a)
	}
	if _, err := s.WithdrawConsent("admin2", name, policy.ScopeComms); err == nil {
		t.Fatal("withdrawn twice")
	}
	log, _ := s.Store.AuditLog(time.Time{})
	if last := log[len(log)-1]; last.Action != "consent.withdraw" || last.Target != name || last.Actor != "admin2" || last.Detail != "scope=comms" {
		t.Fatalf("audit %+v", last)
	}
	info, _ := s.ShowConsent(name)
	if info.Consents[1].Given || info.Consents[1].Record.WithdrawnAt.IsZero() {
		t.Fatalf("show %+v", info)
	}
}
