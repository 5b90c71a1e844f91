package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"schulhof/policy"
)

// imaptestBinary is Dovecot's imaptest: $IMAPTEST or /opt/imaptest/imaptest.
// Missing is a skip locally and a failure in CI.
func imaptestBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("IMAPTEST")
	if p == "" {
		p = "/opt/imaptest/imaptest"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("imaptest missing in CI (%s); build it with shared/tools/imaptest/build.sh", p)
		}
		t.Skipf("imaptest not built (%s)", p)
	}
	return p
}

var imaptestTotals = regexp.MustCompile(`(\d+) test groups: (\d+) failed, (\d+) skipped`)

// imaptestCommands is imaptest's count of the commands a run checked.
var imaptestCommands = regexp.MustCompile(`(base protocol|extensions): (\d+)/(\d+) individual commands failed`)

// assertedGroups must run and pass on their own, each command checked: a
// group whose capability the server does not advertise counts as passed
// in imaptest's totals without running a single command. esearch-condstore
// comes with imaptest; condstore and qresync are Schulhof's scripts in
// imaptest's format (testdata/imaptest), since imaptest ships none.
var assertedGroups = []struct{ dir, name string }{
	{"", "esearch-condstore"},
	{"testdata/imaptest", "condstore"},
	{"testdata/imaptest", "qresync"},
}

// TestImaptestCompliance runs imaptest's scripted compliance tests (the
// directory beside the binary, or $IMAPTEST_TESTS: one file narrows the
// run) against imapd and fails unless every group passes; then each of
// assertedGroups alone, which must run commands and fail none.
func TestImaptestCompliance(t *testing.T) {
	bin := imaptestBinary(t)
	suite := filepath.Join(filepath.Dir(bin), "tests")
	tests := os.Getenv("IMAPTEST_TESTS")
	if tests == "" {
		tests = suite
	}
	e := startMail(t, mailOpts{})
	user := e.user(t, "Ima", "Ptest", policy.Teacher)
	out, groups, failed, skipped := runImaptest(t, bin, e, user, tests)
	t.Logf("imaptest: %d test groups, %d passed, %d failed, %d skipped", groups, groups-failed-skipped, failed, skipped)
	if failed != 0 {
		t.Errorf("imaptest: %d of %d groups failed:\n%s", failed, groups, out)
	}
	if os.Getenv("IMAPTEST_TESTS") != "" {
		return // a narrowed run
	}
	for _, g := range assertedGroups {
		file := filepath.Join(suite, g.name)
		if g.dir != "" {
			// Beside imaptest's default.mbox, which the scripts' messages
			// come from.
			dir := t.TempDir()
			script, err := os.ReadFile(filepath.Join(g.dir, g.name))
			if err != nil {
				t.Fatal(err)
			}
			file = filepath.Join(dir, g.name)
			if err := os.WriteFile(file, script, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(suite, "default.mbox"), filepath.Join(dir, "default.mbox")); err != nil {
				t.Fatal(err)
			}
		}
		out, _, failed, _ := runImaptest(t, bin, e, user, file)
		run, bad := 0, 0
		for _, m := range imaptestCommands.FindAllStringSubmatch(out, -1) {
			f, _ := strconv.Atoi(m[2])
			n, _ := strconv.Atoi(m[3])
			bad, run = bad+f, run+n
		}
		t.Logf("imaptest %s: %d commands, %d failed", g.name, run, bad)
		if failed != 0 || bad != 0 || run == 0 {
			t.Errorf("imaptest group %s: %d commands run, %d failed:\n%s", g.name, run, bad, out)
		}
	}
}

func runImaptest(t *testing.T, bin string, e *mailEnv, user, tests string) (out string, groups, failed, skipped int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "host=127.0.0.1", "port="+port(e.imapAddr), "user="+user, "pass="+pw, "test="+tests)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	m := imaptestTotals.FindSubmatch(buf.Bytes())
	if m == nil {
		t.Fatalf("imaptest printed no totals (%v):\n%s", err, buf.String())
	}
	groups, _ = strconv.Atoi(string(m[1]))
	failed, _ = strconv.Atoi(string(m[2]))
	skipped, _ = strconv.Atoi(string(m[3]))
	if os.Getenv("IMAPTEST_DUMP") != "" {
		t.Log(buf.String())
	}
	return buf.String(), groups, failed, skipped
}
