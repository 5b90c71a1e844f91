package policy

import (
	"testing"
	"time"
)

func TestCheckLock(t *testing.T) {
	e := NewEngine()
	student := time.Duration(e.Bound(LockTimeoutStudentSecs)) * time.Second
	teacher := time.Duration(e.Bound(LockTimeoutSeconds)) * time.Second
	for _, c := range []struct {
		name    string
		req     LockRequest
		rule    Rule
		granted time.Duration
	}{
		{"student infinite is capped", LockRequest{Role: Student, Timeout: -1}, "", student},
		{"student none given", LockRequest{Role: Student}, "", student},
		{"student short kept", LockRequest{Role: Student, Timeout: time.Minute}, "", time.Minute},
		{"teacher infinite is capped", LockRequest{Role: Teacher, Timeout: -1}, "", teacher},
		{"teacher huge is capped", LockRequest{Role: Teacher, Timeout: 1000 * time.Hour}, "", teacher},
		{"student file in group", LockRequest{Role: Student, InGroupFolder: true, Timeout: -1}, "", student},
		{"student folder in group", LockRequest{Role: Student, InGroupFolder: true, Collection: true, DepthInfinity: true}, LimitLock, 0},
		{"student folder depth 0 in group", LockRequest{Role: Student, InGroupFolder: true, Collection: true}, LimitLock, 0},
		{"student folder at home", LockRequest{Role: Student, Collection: true, DepthInfinity: true}, "", student},
		{"teacher folder in group", LockRequest{Role: Teacher, InGroupFolder: true, Collection: true, DepthInfinity: true}, "", teacher},
		{"owner too large", LockRequest{Role: Teacher, OwnerBytes: e.Bound(LockOwnerBytes) + 1}, LimitLock, 0},
		{"too many", LockRequest{Role: Teacher, Held: e.Bound(LocksPerAccount)}, LimitLock, 0},
		{"refresh of a held lock", LockRequest{Role: Student, Held: e.Bound(LocksPerAccount), Refresh: true, Timeout: -1}, "", student},
	} {
		d, g := e.CheckLock(c.req)
		if d.Rule != c.rule || d.Allow != (c.rule == "") || (d.Allow && g != c.granted) {
			t.Errorf("%s: got %v granted %v, want rule %q granted %v", c.name, d, g, c.rule, c.granted)
		}
	}
}

func TestMayBreakLock(t *testing.T) {
	for _, c := range []struct {
		breaker Role
		teaches bool
		holder  Role
		group   bool
		want    bool
	}{
		{Teacher, true, Student, true, true},
		{Teacher, false, Student, true, false},
		{Teacher, true, Teacher, true, false},
		{Admin, false, Teacher, true, true},
		{Student, false, Student, true, false},
		{Admin, false, Student, false, false},
	} {
		if got := MayBreakLock(c.breaker, c.teaches, c.holder, c.group); got != c.want {
			t.Errorf("%+v: got %v", c, got)
		}
	}
}
