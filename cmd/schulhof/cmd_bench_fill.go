package main

import (
	"flag"
	"fmt"
	"io"
	"os/user"
	"strconv"
	"strings"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/bench"
	"schulhof/internal/config"
)

// Large mailboxes for the benchmarks: "bench fill" stores generated
// messages through the store (in the server when it runs, else here),
// "bench maildir" writes the same messages as a Dovecot maildir, and
// "bench imap-commands" times each command of the large-mailbox table.
func init() {
	register(&command{path: "bench fill", summary: "fill INBOXes with generated messages through the store (benchmarks; no SMTP)\n" +
		"Example: schulhof bench fill --accounts bench.n01 --messages 100000",
		flags: func(fs *flag.FlagSet) {
			fs.String("accounts", "", "comma-separated accounts (messages go round-robin)")
			fs.String("account-pattern", "", "instead of --accounts: a pattern with %d, e.g. bench.s%05d")
			fs.Bool("all-accounts", false, "instead of --accounts: every student and teacher account")
			fs.String("range", "1..1", "number range for --account-pattern")
			fs.Int("messages", 1000, "messages in total")
			fs.Int("min-size", 1<<10, "smallest message in bytes")
			fs.Int("max-size", 8<<10, "largest message in bytes")
			fs.Uint64("seed", 1, "generator seed (same seed, same messages as bench maildir)")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			var accts []string
			var err error
			if !boolean(fs, "all-accounts") {
				if accts, err = fillAccounts(fs); err != nil {
					return err
				}
			}
			t0 := time.Now()
			n, err := e.svc.FillMail(e.actor, admin.FillOptions{Accounts: accts, Messages: intFlag(fs, "messages"),
				Seed: uint64Flag(fs, "seed"), MinSize: intFlag(fs, "min-size"),
				MaxSize: intFlag(fs, "max-size"), Domain: e.svc.Domain, AllAccounts: boolean(fs, "all-accounts")})
			e.printf("%d Nachrichten gespeichert (%.1f s)\n", n, time.Since(t0).Seconds())
			return err
		}})

	maildir := &command{path: "bench maildir", summary: "write the messages of bench fill as a Maildir INBOX (for the Dovecot peer)\n" +
		"Example: schulhof bench maildir --dir /tmp/harness/mail/testuser1/Maildir --to testuser1@school.test --messages 100000 --owner mail",
		flags: func(fs *flag.FlagSet) {
			fs.String("dir", "", "the Maildir (created)")
			fs.String("to", "", "To address of the messages")
			fs.Int("messages", 1000, "messages")
			fs.Int("min-size", 1<<10, "smallest message in bytes")
			fs.Int("max-size", 8<<10, "largest message in bytes")
			fs.Uint64("seed", 1, "generator seed")
			fs.String("owner", "", "system user to own the files (Dovecot's mail user)")
		}}
	maildir.client = func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
		fs, _, err := maildir.parse(args)
		if err != nil {
			fmt.Fprintf(stderr, "schulhof: %v\n", err)
			return 2
		}
		uid, gid := -1, -1
		if o := str(fs, "owner"); o != "" {
			u, err := user.Lookup(o)
			if err != nil {
				fmt.Fprintf(stderr, "schulhof: %v\n", err)
				return 2
			}
			uid, _ = strconv.Atoi(u.Uid)
			gid, _ = strconv.Atoi(u.Gid)
		}
		if str(fs, "dir") == "" {
			fmt.Fprintln(stderr, "schulhof: --dir is required")
			return 2
		}
		err = bench.WriteMaildir(str(fs, "dir"), uint64Flag(fs, "seed"), 0, intFlag(fs, "messages"),
			str(fs, "to"), intFlag(fs, "min-size"), intFlag(fs, "max-size"), uid, gid)
		if err != nil {
			fmt.Fprintf(stderr, "schulhof: %v\n", err)
			return 1
		}
		return 0
	}
	register(maildir)

	cmds := &command{path: "bench imap-commands", summary: "time each command of the large-mailbox table (first and warm), one or two servers side by side\n" +
		"Example: schulhof bench imap-commands --addr 127.0.0.1:17143 --user bench.n01 --password X --vs-addr 127.0.0.1:10143 --vs-user testuser1 --vs-password pass",
		flags: func(fs *flag.FlagSet) {
			fs.String("addr", "127.0.0.1:143", "server")
			fs.String("user", "", "login")
			fs.String("password", "", "password")
			fs.String("vs-addr", "", "second server (the reference of the ratios), e.g. Dovecot")
			fs.String("vs-user", "", "login there")
			fs.String("vs-password", "", "password there")
			fs.String("names", "Schulhof,Dovecot", "column names")
			fs.Int("rounds", 6, "rounds (the first is \"first\", the median of the rest \"warm\")")
			fs.String("client", "go-imap", "go-imap (times include its parsing) or lines (a client that only reads lines: the servers' share)")
		}}
	cmds.client = func(cfg *config.Config, args []string, stdout, stderr io.Writer) int {
		fs, _, err := cmds.parse(args)
		if err != nil {
			fmt.Fprintf(stderr, "schulhof: %v\n", err)
			return 2
		}
		rounds := max(2, intFlag(fs, "rounds"))
		names := strings.Split(str(fs, "names"), ",")
		var cols []*bench.CommandTimes
		targets := [][3]string{{str(fs, "addr"), str(fs, "user"), str(fs, "password")}}
		if a := str(fs, "vs-addr"); a != "" {
			targets = append(targets, [3]string{a, str(fs, "vs-user"), str(fs, "vs-password")})
		}
		run := bench.RunCommands
		switch str(fs, "client") {
		case "go-imap":
		case "lines":
			run = bench.RunCommandsLines
		default:
			fmt.Fprintf(stderr, "schulhof: --client: go-imap or lines, not %q\n", str(fs, "client"))
			return 2
		}
		for _, tg := range targets {
			c, err := run(tg[0], bench.TLSNone, false, bench.Cred{User: tg[1], Password: tg[2]}, rounds)
			if err != nil {
				fmt.Fprintf(stderr, "schulhof: %s: %v\n", tg[0], err)
				return 1
			}
			cols = append(cols, c)
		}
		for len(names) < len(cols) {
			names = append(names, fmt.Sprintf("server%d", len(names)+1))
		}
		io.WriteString(stdout, bench.CommandTable(names, cols))
		return 0
	}
	register(cmds)
}

func fillAccounts(fs *flag.FlagSet) ([]string, error) {
	if p := str(fs, "account-pattern"); p != "" {
		first, last, err := bench.ParseRange(str(fs, "range"))
		if err != nil {
			return nil, err
		}
		var out []string
		for i := first; i <= last; i++ {
			out = append(out, fmt.Sprintf(p, i))
		}
		return out, nil
	}
	if a := str(fs, "accounts"); a != "" {
		return strings.Split(a, ","), nil
	}
	return nil, usagef("--accounts or --account-pattern is required")
}
