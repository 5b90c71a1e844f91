// Command schulhof runs the school server (`schulhof serve`) and is the
// admin CLI. Admin verbs talk to the running server over <data>/admin.sock;
// when no server runs they open the store themselves.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"schulhof/internal/adminsock"
	"schulhof/internal/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	over, args, err := globalFlags(args)
	if err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 2
	}
	if len(args) == 2 && args[0] == "help" && args[1] == "--man" {
		manPage(stdout) // schulhof(8), for packaging/build-deb.sh
		return 0
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		usage(stdout)
		return 0
	}
	if over.ConfigFile == "" {
		over.ConfigFile = packagedConfigFile()
	}
	cfg, err := config.Load(over)
	if err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 1
	}
	if args[0] == "serve" {
		return serve(cfg, args[1:], stdout, stderr)
	}
	cmd, rest := findCommand(args)
	if cmd == nil {
		fmt.Fprintf(stderr, "schulhof: unknown command %q (see 'schulhof help')\n", strings.Join(args, " "))
		return 2
	}
	if cmd.client != nil { // runs in the CLI process only (bench)
		return cmd.client(cfg, rest, stdout, stderr)
	}
	if cmd.streamFlag != "" { // the command sends a file (user export)
		return runStream(cfg, cmd, rest, stdin, stdout, stderr)
	}
	req, err := prepareRequest(cmd, rest, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 2
	}
	return callServer(cfg, req, stdout, stderr)
}

// callServer runs a request in the running server, or against the store
// in this process when none runs, and prints its result.
func callServer(cfg *config.Config, req adminsock.Request, stdout, stderr io.Writer) int {
	resp, err := adminsock.Call(socketPath(cfg), req)
	if errors.Is(err, adminsock.ErrNoServer) {
		resp, err = runLocal(cfg, req)
	}
	if err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 1
	}
	for path, data := range resp.Files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			fmt.Fprintln(stderr, "schulhof:", err)
			return 1
		}
	}
	io.WriteString(stdout, resp.Stdout)
	io.WriteString(stderr, resp.Stderr)
	return resp.Code
}

func socketPath(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "admin.sock") }

// globalFlags takes --config, --data and --domain from anywhere before a
// "--", so they work on every verb.
func globalFlags(args []string) (config.Overrides, []string, error) {
	var o config.Overrides
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		var dst *string
		if strings.HasPrefix(a, "-") {
			switch name {
			case "config":
				dst = &o.ConfigFile
			case "data":
				dst = &o.DataDir
			case "domain":
				dst = &o.Domain
			}
		}
		if dst == nil {
			rest = append(rest, a)
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return o, nil, fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			val = args[i]
		}
		*dst = val
	}
	return o, rest, nil
}

// osUser names the person at the keyboard for the audit log.
func osUser() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return fmt.Sprintf("cli:uid%d", os.Getuid())
}
