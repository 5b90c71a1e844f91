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

// TestImaptestCompliance runs imaptest's scripted compliance tests (the
// directory beside the binary, or $IMAPTEST_TESTS: one file narrows the
// run) against imapd and fails unless every group passes.
func TestImaptestCompliance(t *testing.T) {
	bin := imaptestBinary(t)
	tests := os.Getenv("IMAPTEST_TESTS")
	if tests == "" {
		tests = filepath.Join(filepath.Dir(bin), "tests")
	}
	e := startMail(t, mailOpts{})
	user := e.user(t, "Ima", "Ptest", policy.Teacher)
	host, p := "127.0.0.1", port(e.imapAddr)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "host="+host, "port="+p, "user="+user, "pass="+pw, "test="+tests)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	m := imaptestTotals.FindSubmatch(out.Bytes())
	if m == nil {
		t.Fatalf("imaptest printed no totals (%v):\n%s", err, out.String())
	}
	groups, _ := strconv.Atoi(string(m[1]))
	failed, _ := strconv.Atoi(string(m[2]))
	skipped, _ := strconv.Atoi(string(m[3]))
	t.Logf("imaptest: %d test groups, %d passed, %d failed, %d skipped", groups, groups-failed-skipped, failed, skipped)
	if os.Getenv("IMAPTEST_DUMP") != "" {
		t.Log(out.String())
	}
	if failed != 0 {
		t.Errorf("imaptest: %d of %d groups failed:\n%s", failed, groups, out.String())
	}
}
