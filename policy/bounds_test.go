package policy

import (
	"strings"
	"testing"
)

func TestBoundTableIsComplete(t *testing.T) {
	seen := map[BoundKey]bool{}
	for _, b := range BoundTable {
		if seen[b.Key] {
			t.Errorf("bound %s listed twice", b.Key)
		}
		seen[b.Key] = true
		if b.Default < 1 || b.What == "" || b.Unit == "" || !strings.HasPrefix(string(b.Rule), "LIMIT-") {
			t.Errorf("bound %s: incomplete row %+v", b.Key, b)
		}
		inRules := false
		for _, r := range Table {
			inRules = inRules || r.ID == b.Rule
		}
		if !inRules {
			t.Errorf("bound %s: rule %s missing from the rule table", b.Key, b.Rule)
		}
	}
}

func TestCheckBound(t *testing.T) {
	e := NewEngine()
	if d := e.CheckBound(MIMEParts, 10_000); !d.Allow {
		t.Fatalf("at the bound: %v", d)
	}
	d := e.CheckBound(MIMEParts, 10_001)
	if d.Allow || d.Rule != LimitMIME || !strings.Contains(d.Reason, "mime_parts") || !strings.Contains(d.Reason, "10000") {
		t.Fatalf("over the bound: %v", d)
	}
	if err := e.SetBound(MIMEParts, 5); err != nil {
		t.Fatal(err)
	}
	if d := e.CheckBound(MIMEParts, 6); d.Allow || e.Bound(MIMEParts) != 5 {
		t.Fatalf("override not in force: %v", d)
	}
	if err := e.SetBound("no_such_bound", 5); err == nil || !strings.Contains(err.Error(), "no_such_bound") {
		t.Fatalf("unknown key accepted: %v", err)
	}
	if err := e.SetBound(MIMEParts, 0); err == nil {
		t.Fatal("zero accepted")
	}
	if d := NewEngine().CheckBound(XMLBodyBytes, 2_000_000); d.Allow || !strings.Contains(d.Reason, "976.6 KiB") {
		t.Fatalf("bytes not formatted: %v", d)
	}
}
