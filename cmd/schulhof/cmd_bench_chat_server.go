package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"schulhof/internal/auth"
	"schulhof/internal/bench"
	"schulhof/internal/config"
	"schulhof/policy"
	"schulhof/store"
	"schulhof/web"
)

// `bench chat-server` is the server half of `bench chat`, run by it as a
// child process so that its memory can be measured alone: either
// Schulhof's portal and chat on a fresh store in a temporary directory
// (accounts b00000…, one group per room, a session per account), or the
// bare coder/websocket hub. It prints "ready URL" and serves until its
// standard input closes.
func init() {
	c := &command{path: "bench chat-server", summary: "the server half of `bench chat` (started by it; not for direct use)",
		flags: func(fs *flag.FlagSet) {
			fs.String("kind", "schulhof", "schulhof or bare")
			fs.Int("clients", 1000, "accounts (one connection each)")
			fs.Int("room-size", 30, "accounts per room")
			fs.Int("flood", 600, "chat_messages_per_minute for the run (the policy check stays on)")
		}}
	c.client = func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
		fs, _, err := c.parse(args)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		if err := chatServer(fs, stdout); err != nil {
			fmt.Fprintf(stderr, "schulhof: %v\n", err)
			return 1
		}
		return 0
	}
	register(c)
}

func chatServer(fs *flag.FlagSet, stdout io.Writer) error {
	n, size := intFlag(fs, "clients"), intFlag(fs, "room-size")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var handler http.Handler
	var cookies []string
	switch str(fs, "kind") {
	case "bare":
		mux := http.NewServeMux()
		mux.Handle("/chat/ws", bench.NewBareHub(size))
		handler = mux
	case "schulhof":
		dir, err := os.MkdirTemp("", "schulhof-bench-chat-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			return err
		}
		defer st.Close()
		names, err := benchAccounts(st, n, size)
		if err != nil {
			return err
		}
		pol := policy.NewEngine()
		if err := pol.SetBound(policy.ChatMessagesPerMinute, int64(intFlag(fs, "flood"))); err != nil {
			return err
		}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		v := auth.New(st, auth.Options{Domain: "bench.test", Logger: logger})
		defer v.Close()
		srv := web.New(web.Options{Store: st, Auth: v, Policy: pol, Logger: logger, Portal: &web.PortalOptions{Domain: "bench.test"}})
		cookies = make([]string, len(names))
		var wg sync.WaitGroup
		var firstErr error
		var mu sync.Mutex
		for w := range 64 { // concurrent session writes share fsyncs
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(names); i += 64 {
					c, err := srv.OpenSession(names[i])
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					cookies[i] = c
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		handler = srv.Handler()
		path := filepath.Join(dir, "cookies")
		if err := os.WriteFile(path, []byte(strings.Join(cookies, "\n")), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "cookies %s %s\n", web.SessionCookie, path)
	default:
		return usagef("--kind: schulhof or bare")
	}
	if path := os.Getenv("SCHULHOF_BENCH_CPUPROFILE"); path != "" { // where the time goes
		f, err := os.Create(path + "." + str(fs, "kind"))
		if err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	if path := os.Getenv("SCHULHOF_BENCH_BLOCKPROFILE"); path != "" { // where the waits are
		runtime.SetBlockProfileRate(int(time.Millisecond))
		defer func() {
			if f, err := os.Create(path + "." + str(fs, "kind")); err == nil {
				pprof.Lookup("block").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: 20 * time.Second}
	go hs.Serve(ln)
	fmt.Fprintf(stdout, "ready ws://%s/chat/ws\n", ln.Addr())
	if f, ok := stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}
	io.Copy(io.Discard, bufio.NewReader(os.Stdin)) // until the driver closes it
	hs.Close()
	return nil
}

// benchAccounts creates n accounts in rooms of size (one group each),
// without password hashing: the bench opens sessions directly.
func benchAccounts(st *store.Store, n, size int) ([]string, error) {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("b%05d", i)
	}
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		err := st.Update(func(t *store.Tx) error {
			for _, name := range names[lo:hi] {
				if _, err := t.CreateAccount(store.Account{First: "Bench", Last: name, Role: "student", PasswordHash: "bench",
					ConsentPlatform: true, ConsentComms: true}, func(int) string { return name }); err != nil {
					return err
				}
			}
			return t.CreateGroup(store.Group{Name: fmt.Sprintf("r%04d", lo/size), Kind: "class", Members: append([]string(nil), names[lo:hi]...)})
		})
		if err != nil {
			return nil, err
		}
	}
	return names, nil
}
