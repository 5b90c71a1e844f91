package main

import (
	"flag"
	"strconv"
	"strings"

	"schulhof/internal/admin"
)

// Inspection commands act for a named auditor (--as) who proves it with
// the password on standard input: the OS user alone is no auditor.
func inspectFlags(fs *flag.FlagSet) {
	fs.String("as", "", "the auditor acting (account name; required)")
	fs.Bool("password-stdin", false, "read that auditor's password from standard input (required with --as)")
	fs.Bool("json", false, "print JSON")
}

func inspectCreds(e *env, fs *flag.FlagSet) admin.Creds {
	c := admin.Creds{Name: str(fs, "as"), Via: e.actor}
	if boolean(fs, "password-stdin") {
		c.Password = firstLineOf(e.stdin)
	}
	return c
}

func inspectID(args []string) (uint64, error) {
	if err := need(args, 1, "ID"); err != nil {
		return 0, err
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return 0, usagef("ID %q: a number from `schulhof inspect list`", args[0])
	}
	return id, nil
}

func init() {
	register(&command{path: "inspect request", summary: "request a read-only view of a person's login log, mail or chat (auditors only; AUDIT-INSPECT)\nA second auditor must approve it; then the person is told by mail.",
		stdinFlag: "password-stdin",
		flags: func(fs *flag.FlagSet) {
			inspectFlags(fs)
			fs.String("person", "", "account to inspect (required)")
			fs.String("scope", "", "loginlog, mail or chat (required)")
			fs.String("reason", "", "the concrete suspicion (required)")
			fs.String("case", "", "case reference of the school leadership (required)")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			in, err := e.svc.RequestInspection(inspectCreds(e, fs), str(fs, "person"), str(fs, "scope"), str(fs, "reason"), str(fs, "case"))
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(in)
			}
			e.printf("Antrag %d: Einsicht in %s von %s, beantragt von %s. Eine zweite Auditorin oder ein zweiter Auditor muss genehmigen: schulhof inspect approve %d\n",
				in.ID, in.Scope, in.Person, in.RequestedBy, in.ID)
			return nil
		}})

	register(&command{path: "inspect approve", args: "ID", summary: "approve a request as a second auditor; opens the view and tells the person by mail",
		stdinFlag: "password-stdin", flags: inspectFlags,
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			id, err := inspectID(args)
			if err != nil {
				return err
			}
			in, err := e.svc.ApproveInspection(inspectCreds(e, fs), id)
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(in)
			}
			e.printf("Antrag %d genehmigt von %s. Einsicht für %s und %s bis %s. %s wurde per E-Mail benachrichtigt.\n",
				in.ID, in.ApprovedBy, in.RequestedBy, in.ApprovedBy, fmtTime(in.Until), in.Person)
			return nil
		}})

	register(&command{path: "inspect close", args: "ID", summary: "end a request early (withdrawn, or the view no longer needed); requester or approver",
		stdinFlag: "password-stdin",
		flags: func(fs *flag.FlagSet) {
			inspectFlags(fs)
			fs.String("note", "", "why")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			id, err := inspectID(args)
			if err != nil {
				return err
			}
			in, err := e.svc.CloseInspection(inspectCreds(e, fs), id, str(fs, "note"))
			if err != nil {
				return err
			}
			e.printf("Antrag %d abgeschlossen: keine Einsicht mehr.\n", in.ID)
			return nil
		}})

	register(&command{path: "inspect list", summary: "list inspection requests (auditors only)",
		stdinFlag: "password-stdin", flags: inspectFlags,
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			list, err := e.svc.Inspections(inspectCreds(e, fs))
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(list)
			}
			var rows [][]string
			for _, in := range list {
				state := "wartet auf Genehmigung"
				if in.ApprovedBy != "" {
					state = "genehmigt von " + in.ApprovedBy + ", bis " + fmtTime(in.Until)
				}
				rows = append(rows, []string{strconv.FormatUint(in.ID, 10), fmtTime(in.RequestedAt), in.Person, in.Scope, in.Case, in.RequestedBy, state})
			}
			e.table("ID\tBEANTRAGT\tPERSON\tUMFANG\tAKTENZEICHEN\tVON\tSTAND", rows)
			return nil
		}})

	register(&command{path: "inspect show", args: "ID", summary: "show the person's data within an approved request's scope (read-only; recorded in the audit log)",
		stdinFlag: "password-stdin", flags: inspectFlags,
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			id, err := inspectID(args)
			if err != nil {
				return err
			}
			v, err := e.svc.ShowInspection(inspectCreds(e, fs), id)
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(v)
			}
			in := v.Inspection
			e.printf("Einsicht %d: %s, Umfang %s, Aktenzeichen %s, Grund: %s\nbeantragt von %s, genehmigt von %s, einsehbar bis %s (nur lesend)\n\n",
				in.ID, in.Person, in.Scope, in.Case, in.Reason, in.RequestedBy, in.ApprovedBy, fmtTime(in.Until))
			var rows [][]string
			for _, r := range v.Logins {
				result := "ok"
				if !r.OK {
					result = "abgewiesen " + r.Rule
				}
				rows = append(rows, []string{r.Time.Local().Format("2006-01-02 15:04:05"), r.Protocol, r.IP, result})
			}
			if len(rows) > 0 {
				e.table("ZEIT\tDIENST\tADRESSE\tERGEBNIS", rows)
			}
			for _, m := range v.Mail {
				e.printf("--- %s #%d  %s\nVon: %s\nAn: %s\nBetreff: %s\nMarkierungen: %s\n\n%s\n\n", m.Mailbox, m.UID,
					m.Date.Local().Format("2006-01-02 15:04"), m.From, m.To, m.Subject, orDash(strings.Join(m.Flags, " ")), strings.TrimRight(m.Text, "\r\n"))
			}
			for _, m := range v.Chat {
				text := m.Text
				if m.Deleted {
					text = "(gelöscht)"
				}
				e.printf("%s  %s  %s: %s\n", m.Room, m.Time.Local().Format("2006-01-02 15:04"), m.Author, text)
			}
			if len(v.Logins)+len(v.Mail)+len(v.Chat) == 0 {
				e.printf("(keine Daten in diesem Umfang)\n")
			}
			return nil
		}})
}
