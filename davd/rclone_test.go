package davd

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
)

// TestRclone copies a tree of a few hundred files of mixed sizes up into
// the home folder and back down with rclone, and compares checksums.
func TestRclone(t *testing.T) {
	bin := tool(t, "rclone")
	e := newEnv(t)
	u := e.user(t, "Rita", "Clone", policy.Student, "8b")

	src, back := t.TempDir(), t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string][32]byte{}
	for i := range 300 {
		dir := filepath.Join(src, fmt.Sprintf("d%d", i%7), fmt.Sprintf("s%d", i%3))
		os.MkdirAll(dir, 0o755)
		size := rng.IntN(4096)
		switch {
		case i%50 == 0:
			size = 2<<20 + rng.IntN(1<<20)
		case i%10 == 0:
			size = rng.IntN(256 << 10)
		case i%31 == 0:
			size = 0
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		name := fmt.Sprintf("f%03d Datei ä.bin", i)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(src, filepath.Join(dir, name))
		want[rel] = sha256.Sum256(b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	obscured, err := exec.CommandContext(ctx, bin, "obscure", testPassword).Output()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"RCLONE_CONFIG_SCH_TYPE=webdav",
		"RCLONE_CONFIG_SCH_URL="+e.srv.URL+"/dav/",
		"RCLONE_CONFIG_SCH_VENDOR=other",
		"RCLONE_CONFIG_SCH_USER="+u,
		"RCLONE_CONFIG_SCH_PASS="+strings.TrimSpace(string(obscured)),
		"RCLONE_CONFIG="+filepath.Join(t.TempDir(), "none.conf"),
	)
	run := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append(args, "--transfers", "8", "--checkers", "8", "--retries", "1", "--low-level-retries", "1")...)
		cmd.Env = env
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rclone %v: %v\n%s", args, err, out)
		}
		t.Logf("rclone %s: %v", args[0], time.Since(start).Round(time.Millisecond))
	}
	run("copy", src, "sch:home/tree")
	run("copy", "sch:home/tree", "sch:groups/8b/tree") // server-side COPY
	run("copy", "sch:groups/8b/tree", back)
	run("check", src, "sch:home/tree")

	got := 0
	err = filepath.WalkDir(back, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(back, p)
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		io.Copy(h, f)
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		if want[rel] != sum {
			t.Errorf("%s: checksum differs", rel)
		}
		got++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != len(want) {
		t.Fatalf("got %d files back, want %d", got, len(want))
	}
}
