package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"schulhof/policy"
)

// TestImaptestStress runs imaptest's default stress mode (random FETCH,
// STORE, EXPUNGE, APPEND... from 10 clients) against imapd for
// $IMAPTEST_STRESS_SECS seconds and logs its totals. It is a measurement,
// not a pass/fail test: it runs only when the variable is set, e.g.
//
//	IMAPTEST_STRESS_SECS=20 go test -run TestImaptestStress -v ./internal/e2e
//
// and fails only on errors imaptest reports (protocol violations).
func TestImaptestStress(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("IMAPTEST_STRESS_SECS"))
	if secs <= 0 {
		t.Skip("set IMAPTEST_STRESS_SECS to run")
	}
	bin := imaptestBinary(t)
	e := startMail(t, mailOpts{})
	user := e.user(t, "Stress", "Test", policy.Teacher)
	mbox := filepath.Join(filepath.Dir(bin), "tests", "default.mbox")
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+60)*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "host=127.0.0.1", "port="+port(e.imapAddr),
		"user="+user, "pass="+pw, "mbox="+mbox, "secs="+strconv.Itoa(secs)).CombinedOutput()
	t.Logf("imaptest stress (%v):\n%s", err, out)
	if containsErrorLine(out) {
		t.Errorf("imaptest reported errors")
	}
}

func containsErrorLine(out []byte) bool {
	for _, l := range splitLines(out) {
		if len(l) >= 6 && string(l[:6]) == "Error:" {
			return true
		}
	}
	return false
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\n' {
			out = append(out, b[start:i])
			start = i + 1
		}
	}
	return append(out, b[start:])
}
