// Package e2e holds the whole-server tests: they build the schulhof binary,
// start `schulhof serve` in a temporary data directory on loopback ports
// and drive it with real clients and the CLI.
package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/schulhof once per test run and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "schulhof-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		binPath = filepath.Join(dir, "schulhof")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/schulhof")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Server is one running `schulhof serve`.
type Server struct {
	Dir    string            // data directory
	Config string            // config file path
	Addrs  map[string]string // listener name → host:port as printed at start
	// AdminName and AdminPassword are printed on the first start only.
	AdminName, AdminPassword string

	t      testing.TB
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan error
}

// WriteConfig writes a config for dir with every listener on a random
// loopback port (the metrics listener too), plus extra TOML appended
// verbatim (it may add sections).
func WriteConfig(t testing.TB, dir, extra string) string {
	t.Helper()
	cfg := fmt.Sprintf(`domain = "schule.test"
data_dir = %q
[metrics]
listen = "127.0.0.1:0"
[listen]
submission  = "127.0.0.1:0"
submissions = "127.0.0.1:0"
imap        = "127.0.0.1:0"
imaps       = "127.0.0.1:0"
https       = "127.0.0.1:0"
%s
`, dir, extra)
	path := filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var (
	listenLine = regexp.MustCompile(`^(\S+)\s+(127\.0\.0\.1:\d+|\[::1\]:\d+)$`)
	accountRe  = regexp.MustCompile(`^\s+account:\s+(\S+)`)
	passwordRe = regexp.MustCompile(`^\s+password:\s+(\S+)`)
)

// Start runs `schulhof --config config serve [args]` and waits until it
// says it is running.
func Start(t testing.TB, config string, args ...string) *Server {
	t.Helper()
	s := &Server{Config: config, Addrs: map[string]string{}, t: t, out: &syncBuffer{}, exited: make(chan error, 1)}
	s.cmd = exec.Command(Binary(t), append([]string{"--config", config, "serve"}, args...)...)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.out, line)
			if m := listenLine.FindStringSubmatch(line); m != nil {
				s.Addrs[m[1]] = m[2]
			} else if m := accountRe.FindStringSubmatch(line); m != nil {
				s.AdminName = m[1]
			} else if m := passwordRe.FindStringSubmatch(line); m != nil {
				s.AdminPassword = m[1]
			} else if strings.HasPrefix(line, "admin socket") {
				s.Dir = filepath.Dir(strings.TrimSpace(strings.TrimPrefix(line, "admin socket")))
			}
			if strings.Contains(line, "is running") && !signalled {
				signalled = true
				close(ready)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { s.exited <- s.cmd.Wait() }()
	select {
	case <-ready:
	case err := <-s.exited:
		t.Fatalf("serve exited at start: %v\n%s", err, s.out.String())
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("serve did not start:\n%s", s.out.String())
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// Output is everything the server printed so far.
func (s *Server) Output() string { return s.out.String() }

// Stop sends SIGTERM and waits for a clean exit.
func (s *Server) Stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		if err != nil {
			s.t.Fatalf("serve exited with %v\n%s", err, s.out.String())
		}
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		s.t.Fatalf("serve did not stop on SIGTERM\n%s", s.out.String())
	}
}

// Kill ends the server with SIGKILL, as a power cut would.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// Result of one CLI run.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// CLI runs `schulhof --config <config> args...` with stdin.
func CLI(t testing.TB, config, stdin string, args ...string) Result {
	t.Helper()
	cmd := exec.Command(Binary(t), append([]string{"--config", config}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
