package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// version is set by packaging/build-deb.sh (-X main.version=...); it
// names the release in the man page.
var version = "dev"

// manPage writes schulhof(8) in roff from the same command registry that
// `schulhof help` and every `--help` print, so the manual cannot drift
// from the program. packaging/build-deb.sh runs `schulhof help --man`.
func manPage(w io.Writer) {
	date := time.Now().UTC()
	if s, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		date = time.Unix(s, 0).UTC() // reproducible builds
	}
	fmt.Fprintf(w, ".TH SCHULHOF 8 %q %q \"System Administration\"\n", date.Format("2006-01-02"), "schulhof "+version)
	fmt.Fprintf(w, ".SH NAME\nschulhof \\- %s\n", roff(usageTitle))
	fmt.Fprint(w, `.SH SYNOPSIS
.B schulhof
[\fB\-\-config\fR \fIFILE\fR] [\fB\-\-data\fR \fIDIR\fR] [\fB\-\-domain\fR \fIDOMAIN\fR]
\fICOMMAND\fR [\fIARGS\fR] [\fIFLAGS\fR]
.SH DESCRIPTION
Schulhof is one school's internal e\-mail (SMTP submission, IMAP), WebDAV
home and group folders, browser portal and chat, with the school's usage
rules (Nutzungsordnung) enforced as code, over one embedded store.
.PP
.B schulhof serve
runs every daemon in one process; the Debian package starts it as the
systemd unit
.BR schulhof.service .
The other commands are the admin CLI.
`)
	fmt.Fprintf(w, "%s\n", roff(usageTrailer))
	fmt.Fprint(w, `Run them as the
.B schulhof
user (\fBsudo \-u schulhof schulhof\fR ...), so that files created when no
server runs belong to the service. Every change is written to the audit
log with the OS user who made it.
.SH OPTIONS
These global flags work before or after any command.
.TP
.BI \-\-config " FILE"
the TOML configuration file; unknown keys are an error.
The packaged binary reads
.I /etc/schulhof/schulhof.toml
when no \fB\-\-config\fR is given.
.TP
.BI \-\-data " DIR"
the data directory; overrides \fBdata_dir\fR of the file.
.TP
.BI \-\-domain " DOMAIN"
the school's mail domain; overrides \fBdomain\fR of the file.
.TP
.BR \-\-help ", " \-h
print the commands; after a command, that command's usage and flags.
.SH COMMANDS
`)
	fmt.Fprintf(w, ".SS serve\n%s.\n%s\n", roff(serveSummary), roff(serveDetail))
	sorted := append([]*command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].path < sorted[j].path })
	for _, c := range sorted {
		manCommand(w, c)
	}
	fmt.Fprint(w, `.SH FILES
.TP
.I /etc/schulhof/schulhof.toml
the configuration; every key is documented in it with its default.
.TP
.I /var/lib/schulhof/
the data directory (mode 0700, owner schulhof): back it up.
.TP
.I /var/lib/schulhof/schulhof.db
the database (accounts, groups, mail and file metadata, audit log).
.TP
.I /var/lib/schulhof/blobs/
message and file contents, named by their SHA\-256.
.TP
.I /var/lib/schulhof/tls/
the self\-signed certificate generated at the first start when
\fB[tls]\fR names none.
.TP
.I /var/lib/schulhof/admin.sock
the running server's admin socket (mode 0600), used by the admin commands.
.SH EXIT STATUS
0 on success, 1 when the command failed, 2 for a wrong invocation.
.SH SEE ALSO
.BR systemctl (1),
.BR journalctl (1),
.I /usr/share/doc/schulhof/README.md.gz
`)
}

// manCommand writes one command: its usage line, its summary and its
// flags with their defaults.
func manCommand(w io.Writer, c *command) {
	title := c.path
	if c.args != "" {
		title += " " + c.args
	}
	fmt.Fprintf(w, ".SS \"%s\"\n", roff(title))
	for i, para := range strings.Split(c.summary, "\n") {
		if i > 0 {
			fmt.Fprint(w, ".PP\n")
		}
		fmt.Fprintf(w, "%s\n", roff(para))
	}
	if c.flags == nil {
		return
	}
	fs := flag.NewFlagSet(c.path, flag.ContinueOnError)
	c.flags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		if typ != "" {
			fmt.Fprintf(w, ".TP\n.BI \\-\\-%s \" %s\"\n", roff(f.Name), roff(typ))
		} else {
			fmt.Fprintf(w, ".TP\n.B \\-\\-%s\n", roff(f.Name))
		}
		fmt.Fprint(w, roff(usage))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default: %s)", roff(f.DefValue))
		}
		fmt.Fprint(w, "\n")
	})
}

// roff escapes text for a roff line: backslashes, minus signs (so that
// flags copy and paste as ASCII), and a leading control character.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	s = strings.ReplaceAll(s, `"`, `\(dq`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
