package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

// The man page is generated from the command registry: every command and
// every one of its flags is in it, and every line is either text or one of
// the few macros the generator writes.
func TestManPageHasEveryCommandAndFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"help", "--man"}, nil, &out, &errb); code != 0 {
		t.Fatalf("help --man: exit %d: %s", code, errb.String())
	}
	page := out.String()
	if !strings.HasPrefix(page, ".TH SCHULHOF 8 ") {
		t.Fatalf("no .TH header: %.80q", page)
	}
	if len(commands) < 10 {
		t.Fatalf("only %d commands registered", len(commands))
	}
	for _, c := range commands {
		if !strings.Contains(page, "\n.SS \""+roff(c.path)) {
			t.Errorf("command %q missing", c.path)
		}
		if c.flags == nil {
			continue
		}
		fs := flag.NewFlagSet(c.path, flag.ContinueOnError)
		c.flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(page, "\\-\\-"+roff(f.Name)) {
				t.Errorf("%s: flag --%s missing", c.path, f.Name)
			}
		})
	}
	macros := map[string]bool{".TH": true, ".SH": true, ".SS": true, ".PP": true, ".TP": true, ".B": true, ".BI": true, ".BR": true, ".I": true}
	for i, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
			if m, _, _ := strings.Cut(line, " "); !macros[m] {
				t.Errorf("line %d: unexpected control line %q", i+1, line)
			}
		}
	}
}

func TestRoffEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"--json":       `\-\-json`,
		`a\b`:          `a\eb`,
		".hidden":      `\&.hidden`,
		`say "hi"`:     `say \(dqhi\(dq`,
		"'quoted' end": `\&'quoted' end`,
	} {
		if got := roff(in); got != want {
			t.Errorf("roff(%q) = %q, want %q", in, got, want)
		}
	}
}
