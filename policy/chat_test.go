package policy

import "testing"

func TestCheckRoomAccess(t *testing.T) {
	if d := CheckRoomAccess(true, Student); !d.Allow {
		t.Fatal(d)
	}
	if d := CheckRoomAccess(false, Student); d.Rule != ChatMember {
		t.Fatal(d)
	}
	for _, r := range []Role{Admin, Auditor} {
		if d := CheckRoomAccess(false, r); d.Rule != ChatReadReported {
			t.Fatal(r, d)
		}
	}
}

func TestCheckDirect(t *testing.T) {
	cases := []struct {
		f    DirectFacts
		rule Rule
	}{
		{DirectFacts{TargetExists: true, FromScope: DirectGroup, SharedGroup: true}, ""},
		{DirectFacts{TargetExists: true, FromScope: DirectGroup}, ChatDirect},
		{DirectFacts{TargetExists: true, FromScope: DirectAll}, ""},
		{DirectFacts{TargetExists: true, FromScope: DirectNone, SharedGroup: true}, ChatDirect},
		{DirectFacts{TargetExists: false, FromScope: DirectAll}, ChatDirect},
		{DirectFacts{TargetExists: true, Self: true, FromScope: DirectAll}, ChatDirect},
	}
	for i, c := range cases {
		if d := CheckDirect(c.f); d.Rule != c.rule || d.Allow != (c.rule == "") {
			t.Errorf("%d: %v", i, d)
		}
	}
}

func TestCheckChatChange(t *testing.T) {
	if !CheckChatChange(true, false, false).Allow || !CheckChatChange(false, true, true).Allow {
		t.Fatal("allowed cases refused")
	}
	if d := CheckChatChange(false, true, false); d.Rule != ChatOwn {
		t.Fatal("teacher edits another's message:", d)
	}
	if d := CheckChatChange(false, false, true); d.Rule != ChatOwn {
		t.Fatal(d)
	}
}

func TestCheckModule(t *testing.T) {
	if !CheckModule(ModuleChat, ModuleSetting{On: true}, Student, nil).Allow {
		t.Fatal("on for all")
	}
	if d := CheckModule(ModuleChat, ModuleSetting{}, Student, nil); d.Rule != ModuleOff {
		t.Fatal(d)
	}
	s := ModuleSetting{On: true, Groups: []string{"5a"}}
	if !CheckModule(ModuleChat, s, Student, []string{"5a"}).Allow {
		t.Fatal("member of an allowed group")
	}
	if d := CheckModule(ModuleChat, s, Student, []string{"5b"}); d.Rule != ModuleOff {
		t.Fatal(d)
	}
}
