package policy

import "testing"

// TestForumModScope is FORUM-MOD-SCOPE as a table: the moderator of 5a
// acts in 5a only; every other combination of named forum, the item's
// real forum and moderatorship is refused with the rule.
func TestForumModScope(t *testing.T) {
	cases := []struct {
		name string
		f    ForumModFacts
		ok   bool
	}{
		{"own forum, delete", ForumModFacts{ForumDelete, "5a", "5a", true}, true},
		{"own forum, hide", ForumModFacts{ForumHide, "5a", "5a", true}, true},
		{"own forum, unhide", ForumModFacts{ForumUnhide, "5a", "5a", true}, true},
		{"own forum, lock", ForumModFacts{ForumLock, "5a", "5a", true}, true},
		{"own forum, unlock", ForumModFacts{ForumUnlock, "5a", "5a", true}, true},
		{"other forum's post on own forum's URL", ForumModFacts{ForumDelete, "5a", "6b", true}, false},
		{"other forum's thread on own forum's URL (lock)", ForumModFacts{ForumLock, "5a", "6b", true}, false},
		{"other forum named, not its moderator", ForumModFacts{ForumDelete, "6b", "6b", false}, false},
		{"other forum named, hide", ForumModFacts{ForumHide, "6b", "6b", false}, false},
		{"member, not moderator, own forum", ForumModFacts{ForumDelete, "5a", "5a", false}, false},
		{"item not found", ForumModFacts{ForumDelete, "5a", "", true}, false},
		{"no forum named", ForumModFacts{ForumDelete, "", "", true}, false},
		{"unknown action", ForumModFacts{"purge", "5a", "5a", true}, false},
	}
	for _, c := range cases {
		d := CheckForumModerate(c.f)
		if d.Allow != c.ok {
			t.Errorf("%s: allowed=%v, want %v (%s)", c.name, d.Allow, c.ok, d)
		}
		if !d.Allow && d.Rule != ForumModScope {
			t.Errorf("%s: rule %s, want %s", c.name, d.Rule, ForumModScope)
		}
	}
}

func TestForumModerator(t *testing.T) {
	cases := []struct {
		name string
		r    ForumRole
		mod  bool
		read bool
	}{
		{"group teacher moderates by default", ForumRole{Role: Teacher, Member: true, Teacher: true}, true, true},
		{"named pupil moderates", ForumRole{Role: Student, Member: true, Named: true}, true, true},
		{"pupil member", ForumRole{Role: Student, Member: true}, false, true},
		{"teacher of another group", ForumRole{Role: Teacher}, false, false},
		{"admin, group forum", ForumRole{Role: Admin}, false, false},
		{"auditor, group forum", ForumRole{Role: Auditor}, false, false},
		{"admin, school-wide forum", ForumRole{Role: Admin, SchoolWide: true}, true, true},
		{"teacher, school-wide forum", ForumRole{Role: Teacher, SchoolWide: true}, false, true},
		{"named teacher, school-wide forum", ForumRole{Role: Teacher, SchoolWide: true, Named: true}, true, true},
	}
	for _, c := range cases {
		if got := IsForumModerator(c.r); got != c.mod {
			t.Errorf("%s: moderator=%v, want %v", c.name, got, c.mod)
		}
		c.r.ConsentComms = true
		d := CheckForumRead(c.r)
		if d.Allow != c.read {
			t.Errorf("%s: read=%v, want %v", c.name, d.Allow, c.read)
		}
		if !d.Allow && d.Rule != ForumMember {
			t.Errorf("%s: rule %s", c.name, d.Rule)
		}
	}
	if d := CheckForumRead(ForumRole{Role: Student, Member: true}); d.Allow || d.Rule != ConsentComms {
		t.Errorf("member without communication consent: %s", d)
	}
	if d := CheckForumReply(true); d.Allow || d.Rule != ForumLocked {
		t.Errorf("locked thread: %s", d)
	}
	if d := CheckForumReply(false); !d.Allow {
		t.Errorf("open thread refused: %s", d)
	}
}
