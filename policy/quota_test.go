package policy

import "testing"

func TestCheckQuota(t *testing.T) {
	for _, c := range []struct {
		used, add, quota int64
		allow            bool
	}{
		{0, 100, 100, true},
		{0, 101, 100, false},
		{50, 50, 100, true},
		{50, 51, 100, false},
		{200, -50, 100, true}, // shrinking is always allowed
		{1 << 40, 1 << 40, -1, true},
		{0, 0, 0, true},
	} {
		d := CheckQuota(c.used, c.add, c.quota)
		if d.Allow != c.allow || (!d.Allow && d.Rule != Quota) {
			t.Errorf("CheckQuota(%d, %d, %d) = %v", c.used, c.add, c.quota, d)
		}
	}
	q := DefaultQuotas()
	if q.ForRole(Student) != 1<<30 || q.ForRole(Teacher) != 5<<30 || q.ForRole(Auditor) != 100<<20 {
		t.Errorf("ForRole: %+v", q)
	}
}
