package main

import (
	"bytes"
	"encoding/csv"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/adminsock"
)

func init() {
	register(&command{path: "import users", args: "FILE.csv", fileArg: true,
		summary: "create and update accounts and groups from a CSV file (Vorname;Nachname;Klasse;Rolle[;ID][;Einwilligung][;Geburtsdatum])\n" +
			"The header row names the columns; \";\" or \",\"; UTF-8 (with or without BOM) or Windows-1252.\n" +
			"A file with any bad row imports nothing. Re-importing the same file changes nothing.\n" +
			"Einwilligung: keine, plattform or plattform+kommunikation (consents held on signed forms; never withdraws one).\n" +
			"Geburtsdatum: TT.MM.JJJJ or JJJJ-MM-TT, optional; decides who must sign consent forms.\n" +
			"The initial passwords of new accounts go to a CSV for password letters (--passwords).",
		flags: func(fs *flag.FlagSet) {
			fs.Bool("dry-run", false, "only show what would happen")
			fs.Bool("sync", false, "lock students and teachers missing from the file (school-year change); pupils are erased after [privacy] leaver_grace_days")
			fs.String("consent-form", "Import", "form version recorded with the Einwilligung column's consents")
			fs.String("passwords", "", "where to write the new accounts' initial passwords (default: FILE-passwoerter.csv)")
			fs.Bool("json", false, "print JSON")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "FILE.csv"); err != nil {
				return err
			}
			res, err := e.svc.ImportUsers(e.actor, e.stdin, admin.ImportOptions{DryRun: boolean(fs, "dry-run"), Sync: boolean(fs, "sync"), ConsentForm: str(fs, "consent-form")})
			if err != nil {
				return err
			}
			out := str(fs, "passwords")
			if !res.DryRun && len(res.Created) > 0 {
				e.files[out] = passwordLetters(res.Created)
			}
			if boolean(fs, "json") {
				return e.printJSON(res)
			}
			verb := map[bool]string{true: "would ", false: ""}[res.DryRun]
			e.printf("%d rows: %screate %d accounts and %d groups, %smove %d, %d unchanged\n",
				res.Rows, verb, len(res.Created), len(res.NewGroups), verb, len(res.Moved), res.Unchanged)
			for _, c := range res.Created {
				if c.Warning != "" {
					e.printf("warning: %s\n", c.Warning)
				}
			}
			for _, r := range res.Refused {
				e.printf("line %d not imported: %s\n", r.Line, r.Reason)
			}
			for _, m := range res.Moved {
				e.printf("%smove %s: %s → %s\n", verb, m.Name, orDash(m.From), m.To)
			}
			if len(res.Consents) > 0 {
				e.printf("%srecord consents from the file for %d existing accounts: %s\n", verb, len(res.Consents), strings.Join(res.Consents, ", "))
			}
			if len(res.Unlocked) > 0 {
				e.printf("%sunlock %d accounts back in the file: %s\n", verb, len(res.Unlocked), strings.Join(res.Unlocked, ", "))
			}
			if len(res.Locked) > 0 || boolean(fs, "sync") {
				e.printf("--sync: %slock %d accounts missing from the file", verb, len(res.Locked))
				if len(res.Locked) > 0 {
					e.printf(": %s", strings.Join(res.Locked, ", "))
				}
				e.printf("\n")
				if len(res.Locked) > 0 {
					e.printf("pupils among them are erased after [privacy] leaver_grace_days unless they are back in a file (schulhof leavers list)\n")
				}
			}
			if !res.DryRun && len(res.Created) > 0 {
				e.printf("initial passwords written to %s (keep it safe, delete it after printing)\n", out)
			}
			return nil
		}})
}

// prepareFileArg reads the import file in the CLI process and sends it as
// input; the password file path is made absolute for the CLI to write.
func prepareFileArg(c *command, req adminsock.Request, fs *flag.FlagSet, pos []string, stdin io.Reader) (adminsock.Request, error) {
	file := pos[0]
	var err error
	if file == "-" {
		req.Stdin, err = io.ReadAll(io.LimitReader(stdin, 64<<20))
	} else {
		req.Stdin, err = os.ReadFile(file)
	}
	if err != nil {
		return req, err
	}
	if fs.Lookup("passwords") == nil { // an import without password letters (blocklist import)
		return req, nil
	}
	out := str(fs, "passwords")
	if out == "" {
		if file == "-" {
			out = "passwoerter-" + time.Now().Format("2006-01-02-150405") + ".csv"
		} else {
			out = strings.TrimSuffix(file, filepath.Ext(file)) + "-passwoerter.csv"
		}
	}
	if out, err = filepath.Abs(out); err != nil {
		return req, err
	}
	args := []string{}
	for i := 0; i < len(req.Args); i++ {
		a := req.Args[i]
		switch {
		case a == "--passwords" || a == "-passwords":
			i++ // and its value
		case strings.HasPrefix(a, "--passwords=") || strings.HasPrefix(a, "-passwords="):
		default:
			args = append(args, a)
		}
	}
	req.Args = append(args, "--passwords="+out)
	return req, nil
}

// passwordLetters renders the new accounts as a CSV German Excel opens
// directly (UTF-8 with BOM, ";" and CRLF) for a mail merge.
func passwordLetters(created []admin.Created) []byte {
	var b bytes.Buffer
	b.WriteString("\xef\xbb\xbf")
	w := csv.NewWriter(&b)
	w.Comma, w.UseCRLF = ';', true
	w.Write([]string{"Vorname", "Nachname", "Konto", "E-Mail", "Passwort", "Gruppen"})
	for _, c := range created {
		w.Write([]string{c.Account.First, c.Account.Last, c.Account.Name, c.Address, c.Password, strings.Join(c.Joined, " ")})
	}
	w.Flush()
	return b.Bytes()
}
