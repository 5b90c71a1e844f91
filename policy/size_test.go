package policy

import (
	"testing"
	"time"
)

func TestCheckTransfer(t *testing.T) {
	e := NewEngine()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	future, past := now.Add(24*time.Hour), now.Add(-time.Second)
	cases := []struct {
		name  string
		size  int64
		exc   []SizeException
		allow bool
	}{
		{"exactly 20 MiB", 20 << 20, nil, true},
		{"one byte more", 20<<20 + 1, nil, false},
		{"empty", 0, nil, true},
		{"with exception", 50 << 20, []SizeException{{Bytes: 100 << 20, Until: future}}, true},
		{"over the exception", 100<<20 + 1, []SizeException{{Bytes: 100 << 20, Until: future}}, false},
		{"expired exception", 50 << 20, []SizeException{{Bytes: 100 << 20, Until: past}}, false},
		{"exception ends exactly now", 50 << 20, []SizeException{{Bytes: 100 << 20, Until: now}}, false},
		{"smaller exception does not lower", 20 << 20, []SizeException{{Bytes: 1 << 20, Until: future}}, true},
		{"largest of several", 300 << 20, []SizeException{{Bytes: 100 << 20, Until: future}, {Bytes: 400 << 20, Until: future}}, true},
	}
	for _, c := range cases {
		d := e.CheckTransfer(c.size, c.exc, now)
		if d.Allow != c.allow {
			t.Errorf("%s: allow=%v (%s), want %v", c.name, d.Allow, d, c.allow)
		}
		if !d.Allow && d.Rule != Size20MB {
			t.Errorf("%s: rule %s", c.name, d.Rule)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{20 << 20: "20 MiB", 1 << 30: "1 GiB", 17: "17 B", 1536: "1.5 KiB", 20<<20 + 1: "20.0 MiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
