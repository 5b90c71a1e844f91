package policy

// Forum rules (Moderatoren): who reads and writes in a forum, who
// moderates it, and FORUM-MOD-SCOPE: a moderator deletes, hides or locks
// only in her own forum. Callers hand in the facts (which forum the
// request names, which forum the post or thread really belongs to,
// whether the actor moderates the named one); the store re-reads them in
// the transaction that acts.

// ForumAct is one moderation action.
type ForumAct string

const (
	ForumDelete ForumAct = "delete" // the post becomes a tombstone with the reason
	ForumHide   ForumAct = "hide"   // the post is hidden from everyone but moderators
	ForumUnhide ForumAct = "unhide"
	ForumLock   ForumAct = "lock" // the thread takes no more replies
	ForumUnlock ForumAct = "unlock"
)

// ValidForumAct reports a known action.
func ValidForumAct(a ForumAct) bool {
	switch a {
	case ForumDelete, ForumHide, ForumUnhide, ForumLock, ForumUnlock:
		return true
	}
	return false
}

// ForumRole is what the facts say about one account and one forum.
type ForumRole struct {
	Role       Role
	SchoolWide bool // a forum an admin created for the whole school
	Member     bool // member or teacher of the forum's group
	Teacher    bool // teacher of the forum's group: moderates it by default
	Named      bool // named moderator of this forum (schulhof forum moderator add)
	// ConsentComms: the forum is under the e-mail rules (Nutzungsordnung,
	// Forum: "dieselben Vorgaben wie bei der E-Mail-Nutzung"), so it needs
	// the consent to e-mail and chat like they do.
	ConsentComms bool
}

// IsForumModerator: the named moderators, the group's teachers, and for a
// school-wide forum the admins (who created it).
func IsForumModerator(r ForumRole) bool {
	return r.Named || (!r.SchoolWide && r.Teacher) || (r.SchoolWide && r.Role == Admin)
}

// CheckForumRead decides whether an account reads and writes in a forum:
// a group's forum is its members' and teachers' (and named moderators');
// a school-wide forum is everyone's. Admins read a group forum only
// through a report, like the chat. Without the consent to e-mail and
// chat, no forum (CONSENT-COMMS).
func CheckForumRead(r ForumRole) Decision {
	if !r.ConsentComms {
		return Deny(ConsentComms, "Für Foren gelten die Regeln der E-Mail: ohne Einwilligung in E-Mail und Chat sind sie gesperrt.")
	}
	if r.SchoolWide || r.Member || r.Named {
		return Allowed
	}
	if r.Role == Admin || r.Role == Auditor {
		return Deny(ForumMember, "Gruppenforen sind für die Administration nur über eine Meldung lesbar.")
	}
	return Deny(ForumMember, "Nur Mitglieder der Gruppe lesen und schreiben in ihrem Forum.")
}

// ForumModFacts are the facts of one moderation request.
type ForumModFacts struct {
	Act       ForumAct
	Forum     string // the forum the request names (URL, form)
	ItemForum string // the forum the post or thread belongs to ("": not found)
	Moderator bool   // the actor moderates Forum (IsForumModerator)
}

// CheckForumModerate is FORUM-MOD-SCOPE: the action must name the forum
// the item belongs to, and the actor must moderate that forum. A post ID
// of another forum on this forum's URL is refused, never followed.
func CheckForumModerate(f ForumModFacts) Decision {
	if !ValidForumAct(f.Act) {
		return Deny(ForumModScope, "Unbekannte Moderationsaktion %q.", string(f.Act))
	}
	if f.Forum == "" || f.ItemForum != f.Forum {
		return Deny(ForumModScope, "Dieser Beitrag gehört nicht zu diesem Forum.")
	}
	if !f.Moderator {
		return Deny(ForumModScope, "Nur die Moderatoren dieses Forums dürfen hier löschen, ausblenden oder sperren.")
	}
	return Allowed
}

// CheckForumReply decides whether a reply may be added to a thread:
// a locked thread takes none.
func CheckForumReply(locked bool) Decision {
	if locked {
		return Deny(ForumLocked, "Dieses Thema ist gesperrt; Antworten sind nicht mehr möglich.")
	}
	return Allowed
}
