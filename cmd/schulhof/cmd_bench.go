package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"time"

	"schulhof/internal/bench"
	"schulhof/internal/config"
)

// The bench verbs are clients only: they load any SMTP submission or IMAP
// server (Schulhof or a peer) and print the figures; see internal/bench.
func init() {
	smtpCmd := &command{path: "bench smtp", summary: "SMTP submission load: concurrent authenticated connections sending messages; messages/s and p50/p99\n" +
		"Runs as a client only. Every connection sends as its own user to random other users.\n" +
		"Example (Postfix peer): schulhof bench smtp --addr 127.0.0.1:10587 --domain school.test --password pass --conns 20 --duration 20s --verify-imap 127.0.0.1:10143",
		flags: func(fs *flag.FlagSet) {
			benchCommonFlags(fs)
			fs.Int("conns", 20, "concurrent connections")
			fs.Int("messages", 0, "total messages to send (0: send for --duration)")
			fs.Int("size", 10<<10, "message size in bytes")
			fs.Bool("no-auth", false, "skip AUTH (smtp-sink, Postfix port 25): the generator's own upper bound")
			fs.String("rcpt", "", "comma-separated recipient addresses (default: random other users)")
			fs.String("verify-imap", "", "IMAP address to count deliveries in the recipients' INBOXes after sending (e.g. 127.0.0.1:10143)")
			fs.String("verify-tls", "none", "TLS for --verify-imap: none, starttls or implicit")
			fs.Duration("verify-timeout", 2*time.Minute, "how long to wait for deliveries after sending ended")
		}}
	smtpCmd.client = func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
		return runBench(smtpCmd, cfg, args, stdout, stderr, benchSMTP)
	}
	register(smtpCmd)

	imapCmd := &command{path: "bench imap", summary: "IMAP load: concurrent clients doing a mixed select/fetch/store/search/append/idle load; commands/s and p50/p99\n" +
		"Runs as a client only. Each client logs in as its own user; --prepare first fills every used INBOX to that many messages.\n" +
		"Example (Dovecot peer): schulhof bench imap --addr 127.0.0.1:10143 --domain school.test --password pass --clients 10 --duration 20s",
		flags: func(fs *flag.FlagSet) {
			benchCommonFlags(fs)
			fs.Int("clients", 10, "concurrent clients")
			fs.Int("prepare", 200, "fill each used INBOX up to this many messages before the run (0: skip)")
			fs.String("mix", "", "operation weights, e.g. fetch_body=20,noop=5 (default: the built-in mix)")
			fs.Duration("idle", 20*time.Millisecond, "time spent in IDLE before DONE")
		}}
	imapCmd.client = func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
		return runBench(imapCmd, cfg, args, stdout, stderr, benchIMAP)
	}
	register(imapCmd)

	fanoutCmd := &command{path: "bench fanout", summary: "Login and IDLE push latency: every user but the first logs in (timed), selects INBOX and IDLEs; the first sends --rounds messages to all of them over SMTP, and each idle client times its EXISTS after the end of DATA\n" +
		"Runs as a client only (IMAP at --addr, SMTP submission at --smtp-addr).\n" +
		"Example: schulhof bench fanout --addr 127.0.0.1:17143 --smtp-addr 127.0.0.1:17587 --users-file users.txt --rounds 20",
		flags: func(fs *flag.FlagSet) {
			benchCommonFlags(fs)
			fs.String("smtp-addr", "", "SMTP submission address of the sender (default: loopback and the configured submission port)")
			fs.Int("rounds", 20, "messages sent, one after another")
		}}
	fanoutCmd.client = func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
		return runBench(fanoutCmd, cfg, args, stdout, stderr, benchFanout)
	}
	register(fanoutCmd)
}

// benchCommonFlags are the flags both loads share. --domain is a global
// flag (it sets the config's domain, the default of the test addresses).
func benchCommonFlags(fs *flag.FlagSet) {
	fs.String("addr", "", "server address host:port (default: loopback and the configured listen port)")
	fs.String("tls", "none", "none, starttls or implicit")
	fs.Bool("insecure", false, "accept any TLS certificate (Schulhof's self-signed one)")
	fs.String("user-pattern", "testuser%d", "login names, %d replaced by each number of --users")
	fs.String("users", "1..100", "number range for --user-pattern")
	fs.String("users-file", "", "file with one \"user password [address]\" a line (instead of --user-pattern)")
	fs.String("password", "pass", "password of the --user-pattern users")
	fs.Duration("duration", 10*time.Second, "how long to run")
	fs.Uint64("seed", 1, "random seed (same seed, same load)")
	fs.Bool("json", false, "print JSON")
}

type benchFunc func(ctx context.Context, cfg *config.Config, fs *flag.FlagSet, common benchCommon) (*bench.Result, error)

type benchCommon struct {
	addr     string
	tls      bench.TLSMode
	insecure bool
	users    []bench.Cred
}

// parseNoArgs parses the flags of a bench client verb that takes no
// arguments: --help prints the help (code 0), a bad flag or an argument is
// named on stderr (code 2); done says the caller returns code.
func parseNoArgs(c *command, args []string, stdout, stderr io.Writer) (fs *flag.FlagSet, code int, done bool) {
	fs, pos, err := c.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(stdout, c.help())
		return nil, 0, true
	}
	if err == nil && len(pos) > 0 {
		err = usagef("unexpected argument %q", pos[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "schulhof: %v\n", err)
		return nil, 2, true
	}
	return fs, 0, false
}

func runBench(c *command, cfg *config.Config, args []string, stdout, stderr io.Writer, run benchFunc) int {
	fs, code, done := parseNoArgs(c, args, stdout, stderr)
	if done {
		return code
	}
	common, err := benchSetup(c, cfg, fs)
	if err != nil {
		fmt.Fprintf(stderr, "schulhof: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run(ctx, cfg, fs, common)
	if res != nil {
		if boolean(fs, "json") {
			stdout.Write(res.JSON())
		} else {
			io.WriteString(stdout, res.String())
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "schulhof: %v\n", err)
		return 1
	}
	if res.Total.Count == 0 {
		fmt.Fprintln(stderr, "schulhof: nothing succeeded")
		return 1
	}
	return 0
}

func benchSetup(c *command, cfg *config.Config, fs *flag.FlagSet) (benchCommon, error) {
	var b benchCommon
	var err error
	if b.tls, err = bench.ParseTLSMode(str(fs, "tls")); err != nil {
		return b, err
	}
	b.insecure = boolean(fs, "insecure")
	if b.addr = str(fs, "addr"); b.addr == "" {
		b.addr = defaultBenchAddr(cfg, c.path, b.tls)
	}
	if f := str(fs, "users-file"); f != "" {
		b.users, err = bench.ReadUsersFile(f, cfg.Domain)
	} else {
		var first, last int
		if first, last, err = bench.ParseRange(str(fs, "users")); err == nil {
			b.users = bench.PatternUsers(str(fs, "user-pattern"), first, last, str(fs, "password"), cfg.Domain)
		}
	}
	if err == nil && len(b.users) == 0 {
		err = errors.New("no users")
	}
	return b, err
}

// defaultBenchAddr is Schulhof's own listener on loopback.
func defaultBenchAddr(cfg *config.Config, path string, mode bench.TLSMode) string {
	listen := cfg.Listen.Submission
	switch {
	case path == "bench smtp" && mode == bench.TLSImplicit:
		listen = cfg.Listen.Submissions
	case (path == "bench imap" || path == "bench fanout") && mode == bench.TLSImplicit:
		listen = cfg.Listen.IMAPS
	case path == "bench imap" || path == "bench fanout":
		listen = cfg.Listen.IMAP
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func benchSMTP(ctx context.Context, cfg *config.Config, fs *flag.FlagSet, b benchCommon) (*bench.Result, error) {
	o := bench.SMTPOptions{Addr: b.addr, TLS: b.tls, InsecureSkipVerify: b.insecure, Users: b.users,
		Conns: intFlag(fs, "conns"), Messages: intFlag(fs, "messages"), Duration: durFlag(fs, "duration"),
		Size: intFlag(fs, "size"), NoAuth: boolean(fs, "no-auth"), Seed: uint64Flag(fs, "seed")}
	if r := str(fs, "rcpt"); r != "" {
		o.Rcpts = strings.Split(r, ",")
	}
	if v := str(fs, "verify-imap"); v != "" {
		mode, err := bench.ParseTLSMode(str(fs, "verify-tls"))
		if err != nil {
			return nil, err
		}
		o.Verify = &bench.VerifyOptions{Addr: v, TLS: mode, InsecureSkipVerify: b.insecure, Timeout: durFlag(fs, "verify-timeout")}
	}
	return bench.RunSMTP(ctx, o)
}

func benchIMAP(ctx context.Context, cfg *config.Config, fs *flag.FlagSet, b benchCommon) (*bench.Result, error) {
	o := bench.IMAPOptions{Addr: b.addr, TLS: b.tls, InsecureSkipVerify: b.insecure, Users: b.users,
		Clients: intFlag(fs, "clients"), Duration: durFlag(fs, "duration"), Prepare: intFlag(fs, "prepare"),
		IdleFor: durFlag(fs, "idle"), Seed: uint64Flag(fs, "seed")}
	if m := str(fs, "mix"); m != "" {
		mix, err := bench.ParseMix(m)
		if err != nil {
			return nil, err
		}
		o.Mix = mix
	}
	return bench.RunIMAP(ctx, o)
}

func benchFanout(ctx context.Context, cfg *config.Config, fs *flag.FlagSet, b benchCommon) (*bench.Result, error) {
	smtpAddr := str(fs, "smtp-addr")
	if smtpAddr == "" {
		smtpAddr = defaultBenchAddr(cfg, "bench smtp", b.tls)
	}
	return bench.RunFanout(ctx, bench.FanoutOptions{IMAPAddr: b.addr, SMTPAddr: smtpAddr, TLS: b.tls,
		InsecureSkipVerify: b.insecure, Users: b.users, Rounds: intFlag(fs, "rounds"), Seed: uint64Flag(fs, "seed")})
}

func intFlag(fs *flag.FlagSet, name string) int {
	return fs.Lookup(name).Value.(flag.Getter).Get().(int)
}

func durFlag(fs *flag.FlagSet, name string) time.Duration {
	return fs.Lookup(name).Value.(flag.Getter).Get().(time.Duration)
}

func uint64Flag(fs *flag.FlagSet, name string) uint64 {
	return fs.Lookup(name).Value.(flag.Getter).Get().(uint64)
}
