package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// As root without a server, the CLI refuses a data directory owned by
// another user (it would leave root-owned files the service cannot write)
// and accepts its own.
func TestRootRefusesForeignDataDirLocally(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs root")
		}
		t.Skip("needs root")
	}
	foreign := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(foreign, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(foreign, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"--data", foreign, "user", "list"}, nil, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "sudo -u ") {
		t.Fatalf("foreign data dir: exit %d, stderr %q", code, errb.String())
	}
	if entries, _ := os.ReadDir(foreign); len(entries) != 0 {
		t.Fatalf("refused, but wrote %d entries into the data dir", len(entries))
	}

	own := filepath.Join(t.TempDir(), "data")
	out.Reset()
	errb.Reset()
	if code := run([]string{"--data", own, "user", "list"}, nil, &out, &errb); code != 0 {
		t.Fatalf("own data dir: exit %d, stderr %q", code, errb.String())
	}
}
