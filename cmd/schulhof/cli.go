package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/adminsock"
	"schulhof/internal/auth"
	"schulhof/internal/config"
	"schulhof/store"
)

// env is what a command runs with, in the server (socket) or in the CLI
// process (local mode): the service, the actor, the input, the output.
type env struct {
	svc    *admin.Service
	actor  string
	stdin  []byte
	stdout *bytes.Buffer
	files  map[string][]byte
	// stream carries a command's file to the CLI (user export); nil
	// unless the command has streamFlag.
	stream io.Writer
}

func (e *env) printf(format string, args ...any) { fmt.Fprintf(e.stdout, format, args...) }

// printJSON writes v as indented JSON.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
func (e *env) table(header string, rows [][]string) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// command is one admin verb.
type command struct {
	path    string // "user add"
	args    string // positional arguments for the usage line
	summary string
	flags   func(fs *flag.FlagSet)
	run     func(e *env, fs *flag.FlagSet, args []string) error
	// client, if set, runs in the CLI process without store or server.
	// It gets the loaded config for defaults (domain, listen ports).
	client func(cfg *config.Config, args []string, stdout, stderr io.Writer) int
	// stdinFlag names a boolean flag that makes the command read stdin.
	stdinFlag string
	// fileArg: the first positional argument is a file the CLI reads and
	// sends (import).
	fileArg bool
	// streamFlag names the flag with the file the CLI writes the
	// command's stream to (user export --to).
	streamFlag string
}

var commands []*command

func register(c *command) { commands = append(commands, c) }

// findCommand matches the longest command path at the start of args.
func findCommand(args []string) (*command, []string) {
	var best *command
	for _, c := range commands {
		words := strings.Fields(c.path)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.path {
			if best == nil || len(words) > len(strings.Fields(best.path)) {
				best = c
			}
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, args[len(strings.Fields(best.path)):]
}

// usageError is a wrong invocation: exit code 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// parse reads flags and positional arguments in any order.
func (c *command) parse(args []string) (*flag.FlagSet, []string, error) {
	fs := flag.NewFlagSet("schulhof "+c.path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if c.flags != nil {
		c.flags(fs)
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return fs, nil, flag.ErrHelp
			}
			return fs, nil, usagef("%s: %v", c.path, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs, pos, nil
}

func (c *command) help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: schulhof %s", c.path)
	if c.args != "" {
		fmt.Fprintf(&b, " %s", c.args)
	}
	fmt.Fprintf(&b, " [flags]\n\n%s\n", c.summary)
	fs := flag.NewFlagSet(c.path, flag.ContinueOnError)
	if c.flags != nil {
		c.flags(fs)
	}
	fs.SetOutput(&b)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nflags:\n")
		fs.PrintDefaults()
	}
	b.WriteString("\nglobal flags: --config FILE, --data DIR, --domain DOMAIN\n")
	return b.String()
}

// The texts of `schulhof help` that are not in a command's registration;
// the man page (manpage.go) prints the same.
const (
	usageTitle   = "the school's mail, files and chat server, and its admin CLI"
	serveSummary = "run the server (first start: data dir, certificate, first admin)"
	serveDetail  = "Runs every daemon in one process until SIGINT or SIGTERM."
	usageTrailer = "Each command takes --help. Admin commands use the running server's socket, or the data directory when no server runs."
)

func usage(w io.Writer) {
	fmt.Fprintf(w, "schulhof: %s.\n\nusage: schulhof [--config FILE] [--data DIR] [--domain DOMAIN] COMMAND ...\n\n  %-26s %s\n", usageTitle, "serve", serveSummary)
	sorted := append([]*command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].path < sorted[j].path })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-26s %s\n", c.path, firstLine(c.summary))
	}
	fmt.Fprintf(w, "\n%s\n", usageTrailer)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// prepareRequest builds the socket request in the CLI process: it reads
// stdin only if the command wants it, and files named on the command line,
// so that the server never opens a path of the caller's.
func prepareRequest(c *command, args []string, stdin io.Reader) (adminsock.Request, error) {
	req := adminsock.Request{Args: append(strings.Fields(c.path), args...), Actor: osUser()}
	fs, pos, err := c.parse(args)
	if err != nil {
		return req, nil // the server side reports flag errors and --help
	}
	if c.stdinFlag != "" {
		if f := fs.Lookup(c.stdinFlag); f != nil && f.Value.String() == "true" {
			if req.Stdin, err = io.ReadAll(io.LimitReader(stdin, 1<<20)); err != nil {
				return req, err
			}
		}
	}
	if c.fileArg && len(pos) > 0 {
		return prepareFileArg(c, req, fs, pos, stdin)
	}
	return req, nil
}

// runLocal runs a request against the store in this process (no server).
func runLocal(cfg *config.Config, req adminsock.Request) (adminsock.Response, error) {
	return runLocalStream(cfg, req, nil)
}

// runLocalStream is runLocal for a command that streams a file (user
// export) into stream.
func runLocalStream(cfg *config.Config, req adminsock.Request, stream io.Writer) (adminsock.Response, error) {
	if err := checkLocalUser(cfg.DataDir); err != nil {
		return adminsock.Response{}, err
	}
	st, err := store.Open(cfg.DataDir, store.Options{})
	if err != nil {
		return adminsock.Response{}, err
	}
	defer st.Close()
	return executeStream(newService(cfg, st, nil), req, stream), nil
}

func newService(cfg *config.Config, st *store.Store, v *auth.Verifier) *admin.Service {
	eng, _ := cfg.Engine() // validated when the config was loaded
	return &admin.Service{Store: st, Policy: eng, Auth: v, Domain: cfg.Domain, DefaultConsentComms: cfg.Policy.DefaultConsentComms,
		InspectView: cfg.Audit.InspectView(),
		LeaverGrace: time.Duration(cfg.Privacy.LeaverGraceDays) * 24 * time.Hour}
}

// execute runs one admin request and captures its output and exit code.
func execute(svc *admin.Service, req adminsock.Request) adminsock.Response {
	return executeStream(svc, req, nil)
}

// executeStream is execute with the stream of a command that sends a file.
func executeStream(svc *admin.Service, req adminsock.Request, stream io.Writer) adminsock.Response {
	var resp adminsock.Response
	c, args := findCommand(req.Args)
	if c == nil || c.run == nil {
		resp.Stderr, resp.Code = fmt.Sprintf("schulhof: unknown command %q\n", strings.Join(req.Args, " ")), 2
		return resp
	}
	e := &env{svc: svc, actor: req.Actor, stdin: req.Stdin, stdout: &bytes.Buffer{}, files: map[string][]byte{}}
	if c.streamFlag != "" {
		e.stream = stream
	}
	fs, pos, err := c.parse(args)
	if err == nil {
		err = c.run(e, fs, pos)
	}
	resp.Stdout, resp.Files = e.stdout.String(), e.files
	switch {
	case errors.Is(err, flag.ErrHelp):
		resp.Stdout = c.help()
	case err != nil:
		var ue usageError
		resp.Code = 1
		if errors.As(err, &ue) {
			resp.Code = 2
		}
		resp.Stderr = "schulhof: " + err.Error() + "\n"
	}
	return resp
}

// need checks the number of positional arguments.
func need(args []string, n int, what string) error {
	if len(args) != n {
		return usagef("expected %s", what)
	}
	return nil
}

// parseSince reads "30d", "12h", "90m".
func parseSince(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(d, "%d", &days); err != nil || days < 0 {
			return 0, usagef("--since %q: use e.g. 7d, 24h or 30m", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		return 0, usagef("--since %q: use e.g. 7d, 24h or 30m", s)
	}
	return dur, nil
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
