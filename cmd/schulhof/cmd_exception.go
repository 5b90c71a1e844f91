package main

import (
	"flag"
	"strconv"
	"strings"
	"time"

	"schulhof/policy"
)

func init() {
	register(&command{path: "exception add", args: "NAME", summary: "let an account up- and download more than 20 MB until a date (SIZE-20MB)",
		flags: func(fs *flag.FlagSet) {
			fs.String("bytes", "", "new limit, e.g. 100MB, 1GB or 52428800 (required; MB counts 1024×1024 bytes)")
			fs.String("until", "", "last day, YYYY-MM-DD (required; the exception ends at midnight after it)")
			fs.String("reason", "", "what was agreed (required)")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			n, err := parseBytes(str(fs, "bytes"))
			if err != nil {
				return err
			}
			day, err := time.ParseInLocation("2006-01-02", str(fs, "until"), time.Local)
			if err != nil {
				return usagef("--until %q: use YYYY-MM-DD", str(fs, "until"))
			}
			x, err := e.svc.AddException(e.actor, args[0], n, day.AddDate(0, 0, 1), str(fs, "reason"))
			if err != nil {
				return err
			}
			e.printf("%s may transfer up to %s until %s\n", x.Account, policy.FormatBytes(x.Bytes), fmtTime(x.Until))
			return nil
		}})

	register(&command{path: "exception list", summary: "list size exceptions in force",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			list, err := e.svc.Exceptions()
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(list)
			}
			var rows [][]string
			for _, x := range list {
				rows = append(rows, []string{x.Account, policy.FormatBytes(x.Bytes), fmtTime(x.Until), x.CreatedBy, x.Reason})
			}
			e.table("ACCOUNT\tLIMIT\tUNTIL\tBY\tREASON", rows)
			return nil
		}})

	register(&command{path: "log logins", summary: "show login attempts (account tried, protocol, address, time, result); auditors only (--as, AUDIT-INSPECT)\nOne person's attempts: schulhof inspect request --scope loginlog.",
		stdinFlag: "password-stdin",
		flags: func(fs *flag.FlagSet) {
			inspectFlags(fs)
			fs.String("user", "", "refused: one person's log needs an approved inspection")
			fs.String("since", "24h", "how far back, e.g. 30m, 24h, 7d")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			since, err := parseSince(str(fs, "since"))
			if err != nil {
				return err
			}
			recs, err := e.svc.LoginLog(inspectCreds(e, fs), str(fs, "user"), since)
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(recs)
			}
			var rows [][]string
			for _, r := range recs {
				result := "ok"
				if !r.OK {
					result = "refused " + r.Rule
				}
				rows = append(rows, []string{r.Time.Local().Format("2006-01-02 15:04:05"), r.Account, r.Protocol, r.IP, result})
			}
			e.table("TIME\tACCOUNT\tPROTOCOL\tADDRESS\tRESULT", rows)
			return nil
		}})
}

// parseBytes reads "52428800", "100MB", "100 MiB", "1GB", "512KB".
func parseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GIB", 1 << 30}, {"GB", 1 << 30}, {"G", 1 << 30}, {"MIB", 1 << 20}, {"MB", 1 << 20}, {"M", 1 << 20},
		{"KIB", 1 << 10}, {"KB", 1 << 10}, {"K", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<42)/mult {
		return 0, usagef("--bytes %q: use e.g. 100MB, 1GB or a number of bytes", s)
	}
	return n * mult, nil
}
