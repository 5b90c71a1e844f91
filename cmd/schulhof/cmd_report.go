package main

import (
	"flag"
	"strconv"
)

func init() {
	register(&command{path: "report list", summary: "list chat reports (no chat content; open ones unless --all)",
		flags: func(fs *flag.FlagSet) {
			fs.Bool("all", false, "closed reports too")
			fs.Bool("json", false, "print JSON")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			list, err := e.svc.Reports(boolean(fs, "all"))
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(list)
			}
			var rows [][]string
			for _, r := range list {
				status := "open"
				if r.Closed {
					status = "closed by " + r.ClosedBy
				}
				rows = append(rows, []string{strconv.FormatUint(r.ID, 10), fmtTime(r.Time), r.Room, r.Reporter, r.Author, status})
			}
			e.table("ID\tTIME\tROOM\tREPORTER\tAUTHOR\tSTATUS", rows)
			e.printf("%d report(s)\n", len(list))
			return nil
		}})

	register(&command{path: "report show", args: "ID", summary: "read one report with its frozen context (recorded in the audit log)",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			id, err := reportID(args)
			if err != nil {
				return err
			}
			r, err := e.svc.ReadReport(e.actor, id)
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(r)
			}
			printReport(e, r)
			return nil
		}})

	register(&command{path: "report close", args: "ID", summary: "mark a report handled (audited)",
		flags: func(fs *flag.FlagSet) { fs.String("note", "", "what was done") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			id, err := reportID(args)
			if err != nil {
				return err
			}
			if err := e.svc.CloseReport(e.actor, id, str(fs, "note")); err != nil {
				return err
			}
			e.printf("report %d closed\n", id)
			return nil
		}})
}

func reportID(args []string) (uint64, error) {
	if err := need(args, 1, "ID"); err != nil {
		return 0, err
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return 0, usagef("ID %q: a report number from `schulhof report list`", args[0])
	}
	return id, nil
}
