package logid

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestIDFromContextOnEveryLine(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "json").With("daemon", "web")
	ctx := With(context.Background(), "abc123")
	log.InfoContext(ctx, "one")
	log.Info("two") // no ID: nothing added
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(lines[1]), &second)
	if first[Key] != "abc123" || first["daemon"] != "web" {
		t.Errorf("first line %v", first)
	}
	if _, ok := second[Key]; ok {
		t.Errorf("second line got an ID: %v", second)
	}
	if a, b := New(), New(); len(a) != 12 || a == b {
		t.Errorf("IDs %q %q", a, b)
	}
}

func TestTextFormat(t *testing.T) {
	var buf bytes.Buffer
	NewLogger(&buf, "text").InfoContext(With(context.Background(), "x1"), "hello")
	if !strings.Contains(buf.String(), "msg=hello session=x1") {
		t.Fatalf("%q", buf.String())
	}
}
