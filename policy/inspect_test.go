package policy

import (
	"testing"
	"time"
)

func TestCheckInspectRequest(t *testing.T) {
	a := Inspector{"anna.pruef", Auditor}
	ok := InspectRequest{Person: "max.mueller", PersonRole: Student, PersonKnown: true, Scope: ScopeMail, Reason: "Verdacht auf Mobbing", Case: "2026-17"}
	with := func(f func(*InspectRequest)) InspectRequest { r := ok; f(&r); return r }
	for _, c := range []struct {
		name string
		who  Inspector
		r    InspectRequest
		want bool
	}{
		{"auditor with reason and case", a, ok, true},
		{"admin", Inspector{"root.admin", Admin}, ok, false},
		{"teacher", Inspector{"t.lehrer", Teacher}, ok, false},
		{"no account", Inspector{"cli:root", ""}, ok, false},
		{"unknown person", a, with(func(r *InspectRequest) { r.PersonKnown = false }), false},
		{"self", a, with(func(r *InspectRequest) { r.Person = "anna.pruef" }), false},
		{"bad scope", a, with(func(r *InspectRequest) { r.Scope = "files" }), false},
		{"no reason", a, with(func(r *InspectRequest) { r.Reason = "  " }), false},
		{"no case", a, with(func(r *InspectRequest) { r.Case = "" }), false},
		{"login log", a, with(func(r *InspectRequest) { r.Scope = ScopeLoginLog }), true},
		{"chat", a, with(func(r *InspectRequest) { r.Scope = ScopeChat }), true},
	} {
		d := CheckInspectRequest(c.who, c.r)
		if d.Allow != c.want || (!d.Allow && d.Rule != AuditInspect) {
			t.Errorf("%s: %v", c.name, d)
		}
	}
}

func TestCheckInspectApprove(t *testing.T) {
	pending := InspectState{Person: "max.mueller", RequestedBy: "anna.pruef"}
	for _, c := range []struct {
		name string
		who  Inspector
		s    InspectState
		want bool
	}{
		{"second auditor", Inspector{"bert.pruef", Auditor}, pending, true},
		{"same auditor twice", Inspector{"anna.pruef", Auditor}, pending, false},
		{"admin", Inspector{"root.admin", Admin}, pending, false},
		{"the person, if auditor", Inspector{"max.mueller", Auditor}, pending, false},
		{"already approved", Inspector{"carl.pruef", Auditor}, InspectState{Person: "max.mueller", RequestedBy: "anna.pruef", Approved: true, ApprovedBy: "bert.pruef"}, false},
		{"closed", Inspector{"bert.pruef", Auditor}, InspectState{Person: "max.mueller", RequestedBy: "anna.pruef", Closed: true}, false},
	} {
		d := CheckInspectApprove(c.who, c.s)
		if d.Allow != c.want || (!d.Allow && d.Rule != AuditInspect) {
			t.Errorf("%s: %v", c.name, d)
		}
	}
}

func TestCheckInspectView(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	open := InspectState{Person: "max.mueller", RequestedBy: "anna.pruef", Approved: true, ApprovedBy: "bert.pruef", Until: now.Add(time.Hour)}
	expired := open
	expired.Until = now
	pending := InspectState{Person: "max.mueller", RequestedBy: "anna.pruef"}
	for _, c := range []struct {
		name string
		who  Inspector
		s    InspectState
		want bool
	}{
		{"requester", Inspector{"anna.pruef", Auditor}, open, true},
		{"approver", Inspector{"bert.pruef", Auditor}, open, true},
		{"third auditor", Inspector{"carl.pruef", Auditor}, open, false},
		{"admin", Inspector{"root.admin", Admin}, open, false},
		{"requester as admin now", Inspector{"anna.pruef", Admin}, open, false},
		{"expired", Inspector{"anna.pruef", Auditor}, expired, false},
		{"not yet approved", Inspector{"anna.pruef", Auditor}, pending, false},
		{"closed", Inspector{"anna.pruef", Auditor}, InspectState{Person: "max.mueller", RequestedBy: "anna.pruef", Approved: true, ApprovedBy: "bert.pruef", Until: now.Add(time.Hour), Closed: true}, false},
	} {
		d := CheckInspectView(c.who, c.s, now)
		if d.Allow != c.want || (!d.Allow && d.Rule != AuditInspect) {
			t.Errorf("%s: %v", c.name, d)
		}
	}
	if d := CheckInspectList(Inspector{"root.admin", Admin}); d.Allow || d.Rule != AuditInspect {
		t.Errorf("admin lists inspections: %v", d)
	}
	if d := CheckInspectList(Inspector{"anna.pruef", Auditor}); !d.Allow {
		t.Errorf("auditor lists: %v", d)
	}
}

func TestCheckLogRead(t *testing.T) {
	for _, c := range []struct {
		who       Inspector
		onePerson bool
		want      bool
	}{
		{Inspector{"anna.pruef", Auditor}, false, true},
		{Inspector{"anna.pruef", Auditor}, true, false},
		{Inspector{"root.admin", Admin}, false, false},
		{Inspector{"cli:root", ""}, false, false},
		{Inspector{"t.lehrer", Teacher}, true, false},
	} {
		if d := CheckLogRead(c.who, c.onePerson); d.Allow != c.want || (!d.Allow && d.Rule != AuditInspect) {
			t.Errorf("%+v one=%v: %v", c.who, c.onePerson, d)
		}
	}
}

func TestCheckAdminSetsPassword(t *testing.T) {
	for _, r := range Roles {
		d := CheckAdminSetsPassword(r)
		if d.Allow == (r == Auditor) || (!d.Allow && d.Rule != AuditInspect) {
			t.Errorf("%s: %v", r, d)
		}
	}
}

func TestCheckInspectClose(t *testing.T) {
	open := InspectState{Person: "max.mueller", RequestedBy: "anna.pruef", Approved: true, ApprovedBy: "bert.pruef"}
	closed := open
	closed.Closed = true
	for _, c := range []struct {
		who  Inspector
		s    InspectState
		want bool
	}{
		{Inspector{"anna.pruef", Auditor}, open, true},
		{Inspector{"bert.pruef", Auditor}, open, true},
		{Inspector{"anna.pruef", Auditor}, InspectState{Person: "max.mueller", RequestedBy: "anna.pruef"}, true},
		{Inspector{"carl.pruef", Auditor}, open, false},
		{Inspector{"root.admin", Admin}, open, false},
		{Inspector{"anna.pruef", Auditor}, closed, false},
	} {
		if d := CheckInspectClose(c.who, c.s); d.Allow != c.want || (!d.Allow && d.Rule != AuditInspect) {
			t.Errorf("%+v %+v: %v", c.who, c.s, d)
		}
	}
}
