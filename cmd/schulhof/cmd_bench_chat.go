package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"schulhof/internal/bench"
	"schulhof/internal/config"
)

// `bench chat` measures Schulhof's chat (every message committed with its
// sequence number and policy-checked before fan-out) against a bare
// coder/websocket hub with no storage, under the same load, interleaved.
// Each server runs as a child process (`bench chat-server`), so its RSS is
// its own; the clients run here.
func init() {
	c := &command{path: "bench chat", summary: "chat load: N WebSocket clients in rooms of 30, a share of them sending; deliveries/s, p50/p99 send→receive, server RSS per connection, Schulhof vs a bare hub\n" +
		"Example: schulhof bench chat --clients 3000 --senders 300 --rate 1 --duration 20s",
		flags: func(fs *flag.FlagSet) {
			fs.Int("clients", 1000, "WebSocket connections (one account each)")
			fs.Int("room-size", 30, "accounts per room")
			fs.Int("senders", 100, "clients that send (spread over the rooms)")
			fs.Float64("rate", 1, "messages per second per sender")
			fs.Duration("duration", 15*time.Second, "sending time per run")
			fs.Int("rounds", 1, "bare/Schulhof pairs, interleaved")
			fs.String("only", "", "run only \"schulhof\" or \"bare\"")
			fs.Bool("json", false, "print JSON")
		}}
	c.client = func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
		fs, code, done := parseNoArgs(c, args, stdout, stderr)
		if done {
			return code
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if err := benchChat(ctx, fs, stdout); err != nil {
			fmt.Fprintf(stderr, "schulhof: %v\n", err)
			return 1
		}
		return 0
	}
	register(c)
}

// chatRun is one measured run of one server kind.
type chatRun struct {
	Kind string `json:"kind"`
	*bench.ChatResult
	RSSIdleMB     float64 `json:"server_rss_idle_mb"`
	RSSLoadedMB   float64 `json:"server_rss_connected_mb"`
	KBPerConn     float64 `json:"server_kb_per_connection"`
	OfferedPerSec float64 `json:"offered_messages_per_sec"`
}

func benchChat(ctx context.Context, fs *flag.FlagSet, stdout io.Writer) error {
	n, senders := intFlag(fs, "clients"), intFlag(fs, "senders")
	rate, _ := strconv.ParseFloat(fs.Lookup("rate").Value.String(), 64)
	kinds := []string{"bare", "schulhof"}
	if o := str(fs, "only"); o != "" {
		kinds = []string{o}
	}
	var runs []chatRun
	for range intFlag(fs, "rounds") {
		for _, kind := range kinds {
			r, err := chatOnce(ctx, kind, fs, n, senders, rate)
			if err != nil {
				return fmt.Errorf("%s: %w", kind, err)
			}
			runs = append(runs, r)
		}
	}
	if boolean(fs, "json") {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(runs)
	}
	fmt.Fprintf(stdout, "%d clients in rooms of %d, %d senders × %.2g msg/s, %s per run\n\n", n, intFlag(fs, "room-size"), senders, rate, durFlag(fs, "duration"))
	fmt.Fprintf(stdout, "%-9s %10s %9s %12s %8s %8s %8s %8s %9s %9s\n", "server", "sent", "refused", "deliveries/s", "p50 ms", "p99 ms", "max ms", "dropped", "RSS MB", "KB/conn")
	var bare, ours float64
	for _, r := range runs {
		fmt.Fprintf(stdout, "%-9s %10d %9d %12.0f %8.2f %8.2f %8.2f %8d %9.1f %9.1f\n", r.Kind, r.Sent, r.Refused, r.DeliveriesPerSec, r.P50MS, r.P99MS, r.MaxMS, r.Dropped, r.RSSLoadedMB, r.KBPerConn)
		if r.Kind == "bare" {
			bare += r.DeliveriesPerSec
		} else {
			ours += r.DeliveriesPerSec
		}
	}
	if bare > 0 && ours > 0 {
		fmt.Fprintf(stdout, "\nratio schulhof/bare deliveries/s: %.2f\n", ours/bare)
	}
	return nil
}

func chatOnce(ctx context.Context, kind string, fs *flag.FlagSet, n, senders int, rate float64) (chatRun, error) {
	exe, err := os.Executable()
	if err != nil {
		return chatRun{}, err
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "chat-server", "--kind", kind, "--clients", strconv.Itoa(n),
		"--room-size", strconv.Itoa(intFlag(fs, "room-size")), "--flood", strconv.Itoa(int(rate*60*2)+10))
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return chatRun{}, err
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	opts := bench.ChatOptions{Clients: n, Senders: senders, Rate: rate, Duration: durFlag(fs, "duration")}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "cookies" {
			opts.CookieName = f[1]
			raw, err := os.ReadFile(f[2])
			if err != nil {
				return chatRun{}, err
			}
			opts.Cookies = strings.Split(string(raw), "\n")
		}
		if len(f) == 2 && f[0] == "ready" {
			opts.URL = f[1]
			break
		}
	}
	if opts.URL == "" {
		return chatRun{}, fmt.Errorf("chat-server did not start")
	}
	go io.Copy(io.Discard, out)
	opts.Origin = "http://" + strings.TrimSuffix(strings.TrimPrefix(opts.URL, "ws://"), "/chat/ws")
	run := chatRun{Kind: kind, RSSIdleMB: rssMB(cmd.Process.Pid), OfferedPerSec: float64(senders) * rate}
	opts.ServerRSS = func() float64 { return rssMB(cmd.Process.Pid) }
	res, err := bench.RunChat(ctx, opts)
	run.ChatResult = res
	if err != nil {
		return run, err
	}
	run.RSSLoadedMB = res.ServerRSSMB
	if n > 0 {
		run.KBPerConn = (run.RSSLoadedMB - run.RSSIdleMB) * 1024 / float64(n)
	}
	return run, nil
}

// rssMB reads a process's resident set size from /proc (Linux).
func rssMB(pid int) float64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
