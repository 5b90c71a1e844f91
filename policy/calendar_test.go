package policy

import "testing"

func TestCheckCalendarWrite(t *testing.T) {
	cases := []struct {
		w     CalendarWriter
		allow bool
	}{
		{CalendarWriter{Role: Teacher, Teacher: true}, true},
		{CalendarWriter{Role: Teacher, Teacher: true, MembersWrite: true}, true},
		{CalendarWriter{Role: Student, Member: true}, false},
		{CalendarWriter{Role: Student, Member: true, MembersWrite: true}, true},
		{CalendarWriter{Role: Teacher}, false}, // a teacher of another group
		{CalendarWriter{Role: Admin}, false},
		{CalendarWriter{Role: Student, MembersWrite: true}, false},
	}
	for i, c := range cases {
		d := CheckCalendarWrite(c.w)
		if d.Allow != c.allow {
			t.Errorf("case %d %+v: allow=%v, want %v", i, c.w, d.Allow, c.allow)
		}
		if !d.Allow && d.Rule != CalWrite {
			t.Errorf("case %d: rule %s, want %s", i, d.Rule, CalWrite)
		}
	}
	if CheckCalendarRead(false).Rule != CalMember || !CheckCalendarRead(true).Allow {
		t.Error("CheckCalendarRead")
	}
}
