package main

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"schulhof/internal/admin"
)

func init() {
	register(&command{path: "audit verify", summary: "check the hash chain of the audit log; names the first altered, inserted, removed or moved entry",
		flags: func(fs *flag.FlagSet) {
			fs.String("anchor", "", "NR:HASH of an entry noted earlier (from a previous verify): also detects a chain rewritten since")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			v, err := e.svc.AuditCheck(str(fs, "anchor"))
			if err != nil {
				return err
			}
			if b := v.Bad; b != nil {
				e.printf("Audit-Protokoll NICHT in Ordnung.\n")
				e.printf("Erster fehlerhafter Eintrag: Stelle %d", b.Position)
				if b.Seq != 0 {
					e.printf(", Nr. %d", b.Seq)
				}
				if !b.Time.IsZero() {
					e.printf(", %s", b.Time.Local().Format("2006-01-02 15:04:05"))
				}
				if b.Action != "" {
					e.printf(", %s", b.Action)
				}
				e.printf("\nBefund: %s\n", b.Problem)
				e.printf("Davor geprüft und in Ordnung: %d Einträge.\n", v.Entries)
				return fmt.Errorf("Audit-Protokoll verändert (Stelle %d)", b.Position)
			}
			e.printf("Audit-Protokoll in Ordnung: %d Einträge, Kette lückenlos", v.Entries)
			if v.Redacted > 0 {
				e.printf(" (%d mit gelöschten Personenangaben, per Prüfwert bestätigt)", v.Redacted)
			}
			e.printf(".\nLetzter Eintrag (zum Notieren, für --anchor): %d:%s\n", v.Entries, v.Head)
			return nil
		}})

	register(&command{path: "audit list", summary: "list audit records (who did what to whom), filtered",
		flags: func(fs *flag.FlagSet) {
			fs.String("actor", "", "only records by this account (or cli:<os user>)")
			fs.String("person", "", "only records naming this account")
			fs.String("action", "", "only this action, e.g. user.lock, or a prefix ending in '.', e.g. inspect.")
			fs.String("since", "", "from: YYYY-MM-DD, RFC 3339, or a span back like 7d, 24h")
			fs.String("until", "", "before: YYYY-MM-DD (that day excluded), RFC 3339, or a span back like 1d")
			fs.Bool("json", false, "print JSON")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			f := admin.AuditFilter{Actor: str(fs, "actor"), Person: str(fs, "person"), Action: str(fs, "action")}
			var err error
			if f.Since, err = parseWhen("since", str(fs, "since")); err != nil {
				return err
			}
			if f.Until, err = parseWhen("until", str(fs, "until")); err != nil {
				return err
			}
			list, err := e.svc.AuditList(f)
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(list)
			}
			var rows [][]string
			for _, r := range list {
				target, detail := r.Target, r.Detail
				if r.Redacted {
					detail += " [Personenangaben gelöscht]"
				}
				rows = append(rows, []string{strconv.FormatUint(r.Seq, 10), r.Time.Local().Format("2006-01-02 15:04:05"),
					orDash(r.Actor), r.Action, orDash(target), detail})
			}
			e.table("NR\tZEIT\tWER\tAKTION\tZIEL\tDETAIL", rows)
			e.printf("%d Einträge\n", len(list))
			return nil
		}})
}

// parseWhen reads a point in time: a date (local midnight), RFC 3339, or
// a span back from now ("7d").
func parseWhen(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := parseSince(s)
	if err != nil {
		return time.Time{}, usagef("--%s %q: use YYYY-MM-DD, RFC 3339 or e.g. 7d", flagName, s)
	}
	return time.Now().Add(-d), nil
}
