package admin

import (
	"errors"
	"os"
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
	if wd := log[len(log)-2]; wd.Action != "consent.withdraw" || wd.Target != name || wd.Actor != "admin2" || wd.Detail != "scope=comms" {
		t.Fatalf("audit %+v", wd)
	}
	if er := log[len(log)-1]; er.Action != store.ActionErase || er.Target != name || er.Actor != "admin2" || !strings.HasPrefix(er.Detail, "scope=comms ") ||
		!strings.Contains(er.Detail, "mail=0") || strings.Contains(er.Detail, "files=") {
		t.Fatalf("erasure audit %+v", er)
	}
	if w.Report == nil || w.Report.Scope != store.EraseComms {
		t.Fatalf("report %+v", w.Report)
	}
	info, _ := s.ShowConsent(name)
	if info.Consents[1].Given || info.Consents[1].Record.WithdrawnAt.IsZero() {
		t.Fatalf("show %+v", info)
	}
}

// TestImportConsentColumns imports testdata/einwilligung.csv (as German
// Excel saves it: UTF-8 with BOM, ";" and CRLF) with the Einwilligung and
// Geburtsdatum columns.
func TestImportConsentColumns(t *testing.T) {
	s := newService(t)
	s.DefaultConsentComms = false
	s.Now = func() time.Time { return time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC) }
	data, err := os.ReadFile("testdata/einwilligung.csv")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.ImportUsers("office", data, ImportOptions{ConsentForm: "2026-08"})
	if err != nil || len(res.Created) != 5 {
		t.Fatalf("%+v %v", res, err)
	}
	want := []struct {
		name, birth     string
		platform, comms bool
		by              string
	}{
		{"mia.sommer", "2015-05-03", true, true, "eltern"},   // 11
		{"jonas.winter", "2011-02-14", true, false, "beide"}, // 15
		{"luca.herbst", "2007-01-01", false, false, ""},      // keine
		{"emil.fruehling", "", true, false, ""},              // empty cell: the defaults, no record
		{"eva.lang", "", true, true, "selbst"},
	}
	for _, w := range want {
		a, err := s.Store.Account(w.name)
		if err != nil {
			t.Fatal(err)
		}
		if a.BirthDate != w.birth || a.ConsentPlatform != w.platform || a.ConsentComms != w.comms {
			t.Errorf("%s: birth %q platform %v comms %v", w.name, a.BirthDate, a.ConsentPlatform, a.ConsentComms)
		}
		if w.by == "" {
			if a.PlatformConsent != nil || a.CommsConsent != nil {
				t.Errorf("%s: records without consent: %+v %+v", w.name, a.PlatformConsent, a.CommsConsent)
			}
			continue
		}
		r := a.PlatformConsent
		if r == nil || r.GivenBy != w.by || r.Form != "2026-08" || r.GivenOn != "2026-09-01" || r.RecordedBy != "office" {
			t.Errorf("%s: platform record %+v", w.name, r)
		}
		if w.comms != (a.CommsConsent != nil) {
			t.Errorf("%s: comms record %+v", w.name, a.CommsConsent)
		}
	}
	// Re-import: nothing changes.
	again, err := s.ImportUsers("office", data, ImportOptions{ConsentForm: "2026-08"})
	if err != nil || again.Unchanged != 5 || len(again.Consents) != 0 {
		t.Fatalf("re-import: %+v %v", again, err)
	}
	// A later file brings Jonas's comms form and says less for Mia: Jonas
	// gets it, Mia keeps hers (an import never withdraws).
	later := "Vorname;Nachname;Klasse;Rolle;Einwilligung\nMia;Sommer;5a;S;plattform\nJonas;Winter;9b;S;plattform+kommunikation\n"
	res, err = s.ImportUsers("office", []byte(later), ImportOptions{})
	if err != nil || len(res.Consents) != 1 || res.Consents[0] != "jonas.winter" {
		t.Fatalf("later file: %+v %v", res, err)
	}
	if j, _ := s.Store.Account("jonas.winter"); !j.ConsentComms || j.CommsConsent.Form != "Import" {
		t.Fatalf("jonas %+v", j.CommsConsent)
	}
	if m, _ := s.Store.Account("mia.sommer"); !m.ConsentComms {
		t.Fatal("an import withdrew a consent")
	}
	log, _ := s.Store.AuditLog(time.Time{})
	n := 0
	for _, r := range log {
		if r.Action == "consent.record" && strings.Contains(r.Detail, "source=import") {
			n++
		}
	}
	if n != 6 { // mia 2, jonas 1, eva 2 at first; jonas 1 later
		t.Errorf("%d consent.record entries from imports, want 6", n)
	}
	// Bad cells: every line named, nothing imported.
	bad := "Vorname;Nachname;Einwilligung;Geburtsdatum\nA;B;vielleicht;\nC;D;plattform;31.02.2010\nE;F;keine;2099-01-01\n"
	_, err = s.ImportUsers("office", []byte(bad), ImportOptions{})
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Lines) != 3 || !strings.Contains(err.Error(), "line 2: unknown Einwilligung") || !strings.Contains(err.Error(), "line 3:") || !strings.Contains(err.Error(), "line 4:") {
		t.Fatalf("bad cells: %v", err)
	}
}

// TestWithdrawPlatformConsent: the account is refused at once and then
// erased; the name is never given again; the audit log keeps the
// withdrawal (name removed) and the erasure's record with the report.
func TestWithdrawPlatformConsent(t *testing.T) {
	s := newService(t)
	c, _ := s.AddUser("admin1", NewUser{First: "Lea", Last: "Klein", Groups: []string{"5a"}})
	name := c.Account.Name
	sub := s.Store.Feed().Subscribe(16, func(e store.Event) bool { return e.Account == name })
	defer sub.Close()
	w, err := s.WithdrawConsent("admin2", name, policy.ScopePlatform)
	if err != nil {
		t.Fatal(err)
	}
	// The first event is the withdrawal itself: the account without its
	// platform consent (what the daemons end sessions on).
	e := <-sub.C
	if a, ok := e.Data.(store.Account); e.Kind != store.AccountChanged || !ok || a.ConsentPlatform || a.PlatformConsent == nil || a.PlatformConsent.WithdrawnBy != "admin2" {
		t.Fatalf("first event %+v", e)
	}
	if w.Report == nil || w.Report.Items["accounts"] != 1 || w.Report.Scope != store.ErasePlatform {
		t.Fatalf("report %+v", w.Report)
	}
	if _, err := s.Store.Account(name); err == nil {
		t.Fatal("account still there after the platform withdrawal")
	}
	if _, err := s.ShowConsent(name); err == nil || !strings.Contains(err.Error(), "unknown user") {
		t.Fatalf("show after erasure: %v", err)
	}
	if again, _ := s.AddUser("admin1", NewUser{First: "Lea", Last: "Klein"}); again.Account.Name == name {
		t.Fatal("the name was given again")
	}
	log, _ := s.Store.AuditLog(time.Time{})
	var withdraw, erase int
	for _, r := range log {
		switch {
		case r.Action == "consent.withdraw" && r.Target != name && r.Actor == "admin2":
			withdraw++ // kept, the person's name removed
		case r.Action == store.ActionErase && r.Target == name && strings.HasPrefix(r.Detail, "scope=platform"):
			erase++
		case r.Target == name:
			t.Errorf("audit record still names the erased person: %+v", r)
		}
	}
	if withdraw != 1 || erase != 1 {
		t.Fatalf("withdraw %d erase %d in %+v", withdraw, erase, log)
	}
}
