package policy

import (
	"strings"
	"time"
)

// Inspection ("Inaugenscheinnahme"): the Nutzungsordnung lets persons named
// by the school leadership evaluate logs and take notice of mail and chat
// content when there is a concrete suspicion, and the person is told at
// once. Schulhof asks for two of them (four eyes): one auditor requests
// with a reason and a case reference, a different one approves, then both
// see a read-only view for a limited time. Every refusal is AUDIT-INSPECT.

// InspectScope is what an inspection may look at.
type InspectScope string

const (
	ScopeLoginLog InspectScope = "loginlog"
	ScopeMail     InspectScope = "mail"
	ScopeChat     InspectScope = "chat"
)

// InspectScopes lists the valid scopes.
var InspectScopes = []InspectScope{ScopeLoginLog, ScopeMail, ScopeChat}

// ParseInspectScope checks a scope name.
func ParseInspectScope(s string) (InspectScope, Decision) {
	for _, sc := range InspectScopes {
		if string(sc) == s {
			return sc, Allowed
		}
	}
	return "", Deny(AuditInspect, "Unbekannter Umfang %q (loginlog, mail, chat).", s)
}

// DefaultInspectView is how long an approved inspection can be viewed.
const DefaultInspectView = 7 * 24 * time.Hour

// Inspector is the account acting on an inspection.
type Inspector struct {
	Name string
	Role Role
}

// InspectRequest are the facts of a new request.
type InspectRequest struct {
	Person      string
	PersonRole  Role
	PersonKnown bool
	Scope       InspectScope
	Reason      string
	Case        string
}

// InspectState are the facts of an existing request.
type InspectState struct {
	Person      string
	RequestedBy string
	Approved    bool
	ApprovedBy  string
	Until       time.Time // end of the view (approved requests)
	Closed      bool
}

func notAuditor(who Inspector) Decision {
	return Deny(AuditInspect, "Nur Auditor/innen (von der Schulleitung benannt) dürfen Protokolle und Inhalte auswerten; %s ist %s.", who.Name, roleName(who.Role))
}

func roleName(r Role) string {
	if r == "" {
		return "kein Konto"
	}
	return string(r)
}

// CheckInspectRequest decides whether who may request an inspection.
func CheckInspectRequest(who Inspector, r InspectRequest) Decision {
	if who.Role != Auditor {
		return notAuditor(who)
	}
	if !r.PersonKnown {
		return Deny(AuditInspect, "Das Konto %q gibt es nicht.", r.Person)
	}
	if r.Person == who.Name {
		return Deny(AuditInspect, "Niemand beantragt die Einsicht in die eigenen Daten.")
	}
	if _, d := ParseInspectScope(string(r.Scope)); !d.Allow {
		return d
	}
	if strings.TrimSpace(r.Reason) == "" {
		return Deny(AuditInspect, "Ein Grund ist Pflicht (konkreter Verdacht).")
	}
	if strings.TrimSpace(r.Case) == "" {
		return Deny(AuditInspect, "Ein Aktenzeichen ist Pflicht.")
	}
	return Allowed
}

// CheckInspectApprove decides whether who may approve a request: a second
// auditor, not the requester, not the person inspected.
func CheckInspectApprove(who Inspector, s InspectState) Decision {
	if who.Role != Auditor {
		return notAuditor(who)
	}
	if s.Closed {
		return Deny(AuditInspect, "Der Antrag ist abgeschlossen.")
	}
	if s.Approved {
		return Deny(AuditInspect, "Der Antrag ist schon von %s genehmigt.", s.ApprovedBy)
	}
	if who.Name == s.RequestedBy {
		return Deny(AuditInspect, "Vier-Augen-Prinzip: eine zweite Auditorin oder ein zweiter Auditor muss genehmigen, nicht %s selbst.", who.Name)
	}
	if who.Name == s.Person {
		return Deny(AuditInspect, "Niemand genehmigt die Einsicht in die eigenen Daten.")
	}
	return Allowed
}

// CheckInspectView decides whether who may see the inspected data now:
// only the two auditors of an approved request, only until its end.
func CheckInspectView(who Inspector, s InspectState, now time.Time) Decision {
	if who.Role != Auditor {
		return notAuditor(who)
	}
	if who.Name != s.RequestedBy && who.Name != s.ApprovedBy {
		return Deny(AuditInspect, "Nur die beantragende und die genehmigende Person sehen die Daten.")
	}
	if !s.Approved {
		return Deny(AuditInspect, "Der Antrag ist noch nicht von einer zweiten Person genehmigt.")
	}
	if s.Closed || !now.Before(s.Until) {
		return Deny(AuditInspect, "Die Einsicht ist abgelaufen (bis %s).", s.Until.Format("2006-01-02 15:04"))
	}
	return Allowed
}

// CheckInspectList decides whether who may see the list of requests (names
// of persons inspected and reasons are themselves sensitive).
func CheckInspectList(who Inspector) Decision {
	if who.Role != Auditor {
		return notAuditor(who)
	}
	return Allowed
}

// CheckLogRead decides whether who may evaluate the login log: auditors
// only (the Nutzungsordnung: "von den von der Schulleitung bestimmten
// Personen"); the log of one person only through an approved inspection
// of scope loginlog, never by filtering the whole log.
func CheckLogRead(who Inspector, onePerson bool) Decision {
	if who.Role != Auditor {
		return notAuditor(who)
	}
	if onePerson {
		return Deny(AuditInspect, "Das Anmeldeprotokoll einer Person nur mit genehmigter Einsicht: schulhof inspect request --scope loginlog.")
	}
	return Allowed
}

// CheckAdminSetsPassword decides whether an admin may reset or set the
// password of an account with this role. Not an auditor's: whoever knows
// two auditors' passwords could request and approve alone, so auditors
// set their own (the one-time password at creation, then /passwort).
func CheckAdminSetsPassword(target Role) Decision {
	if target == Auditor {
		return Deny(AuditInspect, "Passwörter von Auditor/innen setzt nur die Person selbst (sonst wäre das Vier-Augen-Prinzip umgehbar); bei Verlust benennt die Schulleitung ein neues Konto.")
	}
	return Allowed
}

// CheckInspectClose decides whether who may end a request early: the
// requester (also while it waits) or the approver.
func CheckInspectClose(who Inspector, s InspectState) Decision {
	if who.Role != Auditor {
		return notAuditor(who)
	}
	if s.Closed {
		return Deny(AuditInspect, "Der Antrag ist schon abgeschlossen.")
	}
	if who.Name != s.RequestedBy && who.Name != s.ApprovedBy {
		return Deny(AuditInspect, "Nur die beantragende oder die genehmigende Person schließt den Antrag.")
	}
	return Allowed
}
