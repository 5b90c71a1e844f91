package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"schulhof/internal/adminsock"
	"schulhof/internal/config"
	"schulhof/policy"
)

func init() {
	register(&command{path: "user export", args: "NAME",
		summary: "write everything stored about an account to a zip (right of access, Art. 15 GDPR)\n" +
			"Only when the person (or the parents) asked for it: the export contains the person's mail,\n" +
			"files and chat messages, so it is an admin access to content and is recorded in the audit\n" +
			"log (user.export). The zip (mode 0600) holds a German README.txt that explains each part.",
		streamFlag: "to",
		flags: func(fs *flag.FlagSet) {
			fs.String("to", "", "the zip file to write (required; must not exist)")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "one account name"); err != nil {
				return err
			}
			if str(fs, "to") == "" {
				return usagef("--to FILE.zip is required")
			}
			if e.stream == nil {
				return fmt.Errorf("no output stream for the export")
			}
			st, err := e.svc.ExportUser(e.actor, args[0], e.stream)
			if err != nil {
				return err
			}
			e.printf("Export von %s: %d Einträge, %s, geschrieben nach %s (Zugriff im Audit-Log vermerkt)\n",
				args[0], st.Entries, policy.FormatBytes(st.Bytes), str(fs, "to"))
			return nil
		}})
}

// runStream runs a command whose output is a file (user export): the
// CLI creates it (0600, next to the target, renamed into place only when
// the command succeeded, so a failed export leaves no half zip) and the
// server, or this process when no server runs, streams into it.
func runStream(cfg *config.Config, cmd *command, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	req, err := prepareRequest(cmd, args, stdin)
	if err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 2
	}
	fs, _, err := cmd.parse(args)
	if err != nil || fs.Lookup(cmd.streamFlag).Value.String() == "" {
		// no file to write: the command itself prints the usage or error
		resp := execute(nil, req)
		io.WriteString(stdout, resp.Stdout)
		io.WriteString(stderr, resp.Stderr)
		return resp.Code
	}
	target := fs.Lookup(cmd.streamFlag).Value.String()
	if _, err := os.Lstat(target); err == nil {
		fmt.Fprintf(stderr, "schulhof: %s exists; choose another file or remove it first\n", target)
		return 1
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*")
	if err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 1
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 1
	}
	resp, err := adminsock.CallStream(socketPath(cfg), req, tmp)
	if errors.Is(err, adminsock.ErrNoServer) {
		resp, err = runLocalStream(cfg, req, tmp)
	}
	if err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 1
	}
	io.WriteString(stderr, resp.Stderr)
	if resp.Code != 0 {
		return resp.Code
	}
	if err := tmp.Sync(); err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 1
	}
	if err := tmp.Close(); err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 1
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		fmt.Fprintln(stderr, "schulhof:", err)
		return 1
	}
	done = true
	io.WriteString(stdout, resp.Stdout)
	return 0
}
