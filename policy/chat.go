package policy

import "fmt"

// Chat rules: who reads and writes in a room, who may open a direct
// conversation with whom, who may edit and delete. Callers hand in the
// facts (membership, roles, shared groups); the answers name CHAT-*.

// DirectScope says with whom a role may open a direct conversation.
type DirectScope string

const (
	DirectNone  DirectScope = "none"  // nobody
	DirectGroup DirectScope = "group" // people one shares a group with
	DirectAll   DirectScope = "all"   // every account
)

// DefaultDirectScopes: students only with people they share a group with;
// teachers and admins with everyone (a teacher writes to any pupil).
func DefaultDirectScopes() map[Role]DirectScope {
	return map[Role]DirectScope{Student: DirectGroup, Teacher: DirectAll, Admin: DirectAll, Auditor: DirectGroup}
}

// ValidDirectScope checks a scope named in the config.
func ValidDirectScope(s string) error {
	switch DirectScope(s) {
	case DirectNone, DirectGroup, DirectAll:
		return nil
	}
	return fmt.Errorf("direct_messages %q: use \"none\", \"group\" or \"all\"", s)
}

// CheckRoomAccess decides whether an account may read or write a room.
// Anyone outside the room is refused; for admins and auditors the refusal
// names CHAT-READ-REPORTED: they read chat only through a report.
func CheckRoomAccess(member bool, role Role) Decision {
	if member {
		return Allowed
	}
	if role == Admin || role == Auditor {
		return Deny(ChatReadReported, "Chatverläufe sind für die Administration nur über eine Meldung lesbar.")
	}
	return Deny(ChatMember, "Nur Mitglieder des Raums können ihn lesen und darin schreiben.")
}

// DirectFacts are the facts about a direct conversation someone opens.
type DirectFacts struct {
	From, To      Role
	SharedGroup   bool // the two share a group (as member or teacher)
	Self          bool
	TargetExists  bool
	TargetLocked  bool
	FromScope     DirectScope // the opener's scope ([chat] direct_messages)
	TargetIsStaff bool        // teacher or admin: students may always answer them
}

// CheckDirect decides whether From may open a conversation with To. The
// other side may always answer in a conversation that exists.
func CheckDirect(f DirectFacts) Decision {
	if !f.TargetExists || f.Self {
		return Deny(ChatDirect, "Dieses Konto gibt es nicht.")
	}
	switch f.FromScope {
	case DirectAll:
		return Allowed
	case DirectGroup:
		if f.SharedGroup {
			return Allowed
		}
		return Deny(ChatDirect, "Direktnachrichten sind nur mit Personen aus den eigenen Gruppen erlaubt.")
	}
	return Deny(ChatDirect, "Direktnachrichten sind für diese Rolle nicht freigeschaltet.")
}

// CheckChatChange decides whether an account may edit or delete a
// message: authors their own; a room's teachers may delete in it.
func CheckChatChange(isAuthor, isRoomTeacher, deleting bool) Decision {
	if isAuthor || (deleting && isRoomTeacher) {
		return Allowed
	}
	if deleting {
		return Deny(ChatOwn, "Nur eigene Nachrichten können gelöscht werden (Lehrkräfte: im eigenen Raum).")
	}
	return Deny(ChatOwn, "Nur eigene Nachrichten können bearbeitet werden.")
}
