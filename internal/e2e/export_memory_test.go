package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"schulhof/store"
)

// TestExportServerMemory: the server streams an export of EXPORT_TEST_MIB
// MiB of home files (default 256; 1024 for the 1 GiB figure) over the
// admin socket without its resident memory growing with the export: the
// peak RSS (VmHWM) after the export stays within 64 MiB of the peak
// before it, and the zip the CLI wrote holds every byte.
func TestExportServerMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes hundreds of MiB")
	}
	mib := 256
	if v := os.Getenv("EXPORT_TEST_MIB"); v != "" {
		mib, _ = strconv.Atoi(v)
	}
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.CreateAccount(store.Account{First: "Max", Last: "Muster", Role: "student", ConsentPlatform: true},
		func(int) string { return "max.muster" })
	if err != nil {
		t.Fatal(err)
	}
	const per = 64 << 20
	for i := 0; i < mib*(1<<20)/per; i++ {
		pb, err := st.WriteBlob(io.LimitReader(rand.NewChaCha8([32]byte{byte(i)}), per), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.FilePut(store.HomeTree(a.Name), fmt.Sprintf("/film-%02d.bin", i),
			store.PutFile{Blob: pb.Blob, Pending: true, ModTime: time.Now(), Limits: store.NoLimits()}); err != nil {
			t.Fatal(err)
		}
		pb.Release()
	}
	st.Close()

	srv := Start(t, cfg)
	before := procHWM(t, srv.cmd.Process.Pid)
	out := filepath.Join(t.TempDir(), "export.zip")
	start := time.Now()
	ok(t, cfg, "", "user", "export", a.Name, "--to", out)
	took := time.Since(start)
	after := procHWM(t, srv.cmd.Process.Pid)
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("export of %d MiB over the admin socket: zip %d MiB in %v (%.0f MiB/s); server peak RSS %d MiB before, %d MiB after",
		mib, fi.Size()>>20, took.Round(time.Millisecond), float64(fi.Size())/(1<<20)/took.Seconds(), before>>10, after>>10)
	if fi.Size() < int64(mib)<<20 {
		t.Fatalf("zip %d bytes, less than the %d MiB exported", fi.Size(), mib)
	}
	if after-before > 64<<10 {
		t.Fatalf("server peak RSS grew by %d MiB during the export", (after-before)>>10)
	}
}

// procHWM is a process's peak resident set in KiB (Linux).
func procHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("no /proc (not Linux): %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}
