package policy

// Role is what an account is in the school.
type Role string

const (
	Student Role = "student"
	Teacher Role = "teacher"
	Admin   Role = "admin"
	// Auditor: a person the school leadership names to evaluate logs in
	// justified cases (Nutzungsordnung, Verhaltensregeln).
	Auditor Role = "auditor"
)

// Roles lists the valid roles.
var Roles = []Role{Student, Teacher, Admin, Auditor}

// ParseRole checks a role name given by an admin.
func ParseRole(s string) (Role, Decision) {
	for _, r := range Roles {
		if string(r) == s {
			return r, Allowed
		}
	}
	return "", Deny(RoleRequired, "Unbekannte Rolle %q (student, teacher, admin, auditor).", s)
}

// Service names what a login is for; consent rules differ between them.
type Service string

const (
	ServiceMail  Service = "mail"  // SMTP, IMAP
	ServiceFiles Service = "files" // WebDAV
	ServiceChat  Service = "chat"
	ServiceWeb   Service = "web" // login page, password change
	// ServiceContacts: the shared address book over CardDAV (platform
	// consent only, like the portal's page).
	ServiceContacts Service = "contacts"
	// ServiceCalendar: CalDAV. The group calendar is school organisation,
	// not communication: platform consent is enough.
	ServiceCalendar Service = "calendar"
)

// LoginFacts are the facts about an account that decide whether a login
// with a correct password may proceed.
type LoginFacts struct {
	Locked          bool
	LockReason      string
	MustChange      bool
	ConsentPlatform bool // Einwilligung in die Nutzung der Plattform
	ConsentComms    bool // Einwilligung E-Mail, Chat, Internet
}

// LoginPurpose says whether the login is the password-change flow itself,
// which PW-MUST-CHANGE lets through.
type LoginPurpose int

const (
	PurposeUse LoginPurpose = iota
	PurposeChangePassword
)

// CheckLogin decides whether an account whose password was correct may use
// a service: ACCOUNT-LOCKED, CONSENT-PLATFORM, CONSENT-COMMS, PW-MUST-CHANGE,
// in that order (the most fundamental reason first).
func CheckLogin(f LoginFacts, svc Service, purpose LoginPurpose) Decision {
	if d := SessionAllowed(f, svc); !d.Allow {
		return d
	}
	if f.MustChange && purpose != PurposeChangePassword {
		return Deny(PWMustChange, "Das Passwort muss zuerst geändert werden.")
	}
	return Allowed
}

// SessionAllowed decides whether an open session of a service may go on
// after the account changed: ACCOUNT-LOCKED, CONSENT-PLATFORM and
// CONSENT-COMMS end it (a withdrawn consent closes what it covered at
// once); PW-MUST-CHANGE does not (a reset changes the password, which ends
// sessions by itself).
func SessionAllowed(f LoginFacts, svc Service) Decision {
	if f.Locked {
		reason := f.LockReason
		if reason == "" {
			reason = "kein Grund angegeben"
		}
		return Deny(AccountLocked, "Das Konto ist gesperrt (%s).", reason)
	}
	if !f.ConsentPlatform {
		return Deny(ConsentPlatform, "Ohne Einwilligung in die Nutzung ist keine Anmeldung möglich.")
	}
	if (svc == ServiceMail || svc == ServiceChat) && !f.ConsentComms {
		return Deny(ConsentComms, "Ohne Einwilligung in E-Mail und Chat sind diese Dienste gesperrt.")
	}
	return Allowed
}

// CheckReceive decides whether mail may be delivered to an account: not
// without its consent to the platform and to e-mail (CONSENT-PLATFORM,
// CONSENT-COMMS), since nobody could read it and it would be kept against
// the withdrawal. A lock does not stop delivery (the lock is lifted again,
// the mail is the senders' and the recipient's).
func CheckReceive(f LoginFacts) Decision {
	f.Locked = false
	return SessionAllowed(f, ServiceMail)
}
