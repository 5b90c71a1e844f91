package policy

// Rule is the stable ID of one usage rule. It appears in protocol errors, in
// the log and in the audit log.
type Rule string

// The rule table. Source: ../shared/reference/nutzungsordnung.txt, section
// named in the comment.
const (
	// Verhaltensregeln: password of at least eight characters with upper and
	// lower case letters, digits and special characters; not guessable.
	PWStrength Rule = "PW-STRENGTH"
	// Verhaltensregeln: up- and downloads over 20 MB are not allowed unless
	// agreed with the administrators beforehand.
	Size20MB Rule = "SIZE-20MB"
	// E-Mail: only for communication inside the school.
	MailInternal Rule = "MAIL-INTERNAL"
	// Massen-E-Mails are not allowed.
	MailMass Rule = "MAIL-MASS"
	// Verhaltensregeln: no links to blocked sites.
	LinkBlock Rule = "LINK-BLOCK"
	// Verstöße: a locked account cannot use the platform at all.
	AccountLocked Rule = "ACCOUNT-LOCKED"
	// Administratoren: a password set by an admin must be changed at the
	// next login; until then only the change is allowed.
	PWMustChange Rule = "PW-MUST-CHANGE"
	// Einwilligung: without consent to the platform, no access at all.
	ConsentPlatform Rule = "CONSENT-PLATFORM"
	// Einwilligung: without consent to e-mail/chat/internet, those services
	// are closed.
	ConsentComms Rule = "CONSENT-COMMS"
	// Administratoren: chat logs are readable only after a report.
	ChatReadReported Rule = "CHAT-READ-REPORTED"
	// Moderatoren: moderators act only in their own forum.
	ForumModScope Rule = "FORUM-MOD-SCOPE"
	// Moderatoren, Verhaltensregeln: a group's forum is for its members
	// and teachers; school-wide forums for everyone.
	ForumMember Rule = "FORUM-MEMBER"
	// Moderatoren: a locked thread takes no replies.
	ForumLocked Rule = "FORUM-LOCKED"
	// E-Mail, Einwilligung: content inspection needs an auditor, a reason,
	// and the user is told.
	AuditInspect Rule = "AUDIT-INSPECT"
	// Verhaltensregeln (password not guessable): repeated failed logins are
	// slowed down per account and per address.
	AuthThrottle Rule = "AUTH-THROTTLE"
	// Wrong account name or password.
	AuthFailed Rule = "AUTH-FAILED"
	// Accounts: the name rules (vorname.nachname) and valid group names.
	Naming Rule = "NAMING"
	// Administratoren: only roles with the right may act.
	RoleRequired Rule = "ROLE-REQUIRED"
	// Rechte anderer achten: the header From and Sender of submitted mail
	// must be an address the account may use (nobody writes as a teacher).
	MailSender Rule = "MAIL-SENDER"
	// Nutzungsmöglichkeiten: the school decides which modules (mail, files,
	// chat, …) are switched on, for everyone or per group.
	ModuleOff Rule = "MODULE-OFF"
	// Chat: only a room's members (and the group's teachers) read and
	// write in it.
	ChatMember Rule = "CHAT-MEMBER"
	// Chat: who may open a direct conversation with whom, per role.
	ChatDirect Rule = "CHAT-DIRECT"
	// Chat: authors edit and delete their own messages; a room's teachers
	// may delete in their room.
	ChatOwn Rule = "CHAT-OWN"
	// Hausaufgaben: a task must have been announced in class.
	HomeworkAnnounced Rule = "HOMEWORK-ANNOUNCED"
	// Hausaufgaben: teachers give a fair period (angemessener
	// Bearbeitungszeitraum): at least a configured number of school days.
	HomeworkPeriod Rule = "HOMEWORK-PERIOD"
	// Right of access (Art. 15 GDPR): one export of an account at a time.
	LimitExports Rule = "LIMIT-EXPORTS"
	// Verhaltensregeln (gemeinsames Adressbuch): the address book shows
	// what each person entered in the portal; over CardDAV it is read-only.
	AddressBookReadOnly Rule = "ADDRESSBOOK-READONLY"
	// Kommunikation: group calendar entries are made by the group's
	// teachers (and its members where the group allows it), in good faith.
	CalWrite Rule = "CAL-WRITE"
	// Kommunikation: a group's calendar is seen by its members and
	// teachers only.
	CalMember Rule = "CAL-MEMBER"
	// Kommunikation: a calendar entry must be a well-formed iCalendar
	// event (one VEVENT, a start, no rule that repeats faster than daily).
	CalData Rule = "CAL-DATA"
)

// RuleInfo describes one rule for documentation and `--help` output.
type RuleInfo struct {
	ID     Rule
	Source string // section of the Nutzungsordnung
	Where  string // where Schulhof enforces it
}

// Table lists every rule with its source, in the order of DESIGN.md.
var Table = []RuleInfo{
	{PWStrength, "Verhaltensregeln", "every password set"},
	{Size20MB, "Verhaltensregeln", "SMTP SIZE, IMAP APPENDLIMIT, DAV PUT/GET"},
	{MailInternal, "E-Mail", "SMTP MAIL/RCPT"},
	{MailMass, "Massen-E-Mails", "SMTP"},
	{LinkBlock, "Verhaltensregeln", "mail, chat, forum, homework texts and feedback"},
	{AccountLocked, "Verstöße", "every login"},
	{PWMustChange, "Administratoren", "every login"},
	{ConsentPlatform, "Einwilligung", "every login, open sessions, SMTP RCPT, consent record"},
	{ConsentComms, "Einwilligung", "mail and chat logins and sessions, SMTP RCPT, consent record"},
	{ChatReadReported, "Administratoren", "chat admin views"},
	{ForumModScope, "Moderatoren", "forum moderation (delete, hide, lock)"},
	{ForumMember, "Moderatoren", "forum pages and posts"},
	{ForumLocked, "Moderatoren", "forum replies"},
	{AuditInspect, "E-Mail, Einwilligung", "inspect CLI, portal /pruefung"},
	{AuthThrottle, "Verhaltensregeln", "every login"},
	{AuthFailed, "Verhaltensregeln", "every login"},
	{Naming, "Art der gespeicherten Daten", "account and group creation"},
	{RoleRequired, "Administratoren", "admin actions"},
	{MailSender, "Rechte anderer achten", "SMTP DATA"},
	{ModuleOff, "Nutzungsmöglichkeiten", "portal, chat, SMTP, IMAP, WebDAV"},
	{ChatMember, "Verhaltensregeln", "chat rooms"},
	{ChatDirect, "Verhaltensregeln", "chat direct conversations"},
	{ChatOwn, "Rechte anderer achten", "chat edit and delete"},
	{HomeworkAnnounced, "Hausaufgaben", "portal: setting a task"},
	{HomeworkPeriod, "Hausaufgaben", "portal: setting a task"},
	{AddressBookReadOnly, "Verhaltensregeln", "CardDAV PUT, DELETE, PROPPATCH, MKCOL, COPY, MOVE, LOCK"},
	{CalWrite, "Kommunikation", "calendar: portal and CalDAV PUT/DELETE"},
	{CalMember, "Kommunikation", "calendar: portal, CalDAV, subscription management"},
	{CalData, "Kommunikation", "calendar: portal and CalDAV PUT"},
	{LimitCalendar, "(robustness)", "calendar entries, CalDAV PUT"},
	{LimitBody, "(robustness)", "portal request bodies"},
	{LimitXML, "(robustness)", "WebDAV XML bodies"},
	{LimitProps, "(robustness)", "WebDAV PROPPATCH"},
	{LimitLock, "(robustness)", "WebDAV LOCK"},
	{LimitRanges, "(robustness)", "HTTP GET with Range"},
	{LimitMIME, "(robustness)", "SMTP DATA, IMAP APPEND"},
	{LimitHeader, "(robustness)", "SMTP DATA, IMAP APPEND"},
	{LimitKeywords, "(robustness)", "IMAP STORE, APPEND"},
	{LimitMailboxes, "(robustness)", "IMAP CREATE, RENAME"},
	{LimitEntries, "(robustness)", "WebDAV PUT, MKCOL, COPY, MOVE; homework attachments and hand-ins"},
	{LimitUploads, "(robustness)", "WebDAV PUT"},
	{LimitName, "(robustness)", "file names, account names"},
	{LimitConn, "(robustness)", "every listener before login"},
	{LimitTimeout, "(robustness)", "every listener"},
	{LimitMessage, "(robustness)", "chat messages and reports, homework texts and feedback"},
	{LimitFlood, "(robustness)", "chat messages per minute"},
	{LimitFrame, "(robustness)", "WebSocket frames"},
	{LimitExports, "(robustness)", "user export, portal data download"},
}
