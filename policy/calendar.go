package policy

// CalendarWriter is who wants to change a group's calendar.
type CalendarWriter struct {
	Role    Role
	Teacher bool // teaches the group
	Member  bool // is a member (pupil) of the group
	// MembersWrite is the group's setting: members may create and change
	// entries too.
	MembersWrite bool
}

// CheckCalendarWrite decides CAL-WRITE: the group's teachers write in its
// calendar, its members only where the group allows it; nobody else (an
// admin neither: the calendar is the group's, not the administration's).
func CheckCalendarWrite(w CalendarWriter) Decision {
	if w.Teacher || (w.Member && w.MembersWrite) {
		return Allowed
	}
	if w.Member {
		return Deny(CalWrite, "In diesem Gruppenkalender tragen nur die Lehrkräfte der Gruppe ein.")
	}
	return Deny(CalWrite, "Nur Lehrkräfte und Mitglieder der Gruppe dürfen in ihren Kalender eintragen.")
}

// CheckCalendarRead decides CAL-MEMBER: members and teachers of the
// group read its calendar.
func CheckCalendarRead(member bool) Decision {
	if member {
		return Allowed
	}
	return Deny(CalMember, "Nur Mitglieder und Lehrkräfte der Gruppe sehen ihren Kalender.")
}
