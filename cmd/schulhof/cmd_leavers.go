package main

import (
	"flag"
	"fmt"
	"time"
)

func init() {
	register(&command{path: "leavers list", summary: "list pupils locked by 'import --sync' and the day the server erases them ([privacy] leaver_grace_days)",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			list, err := e.svc.Leavers()
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(list)
			}
			var rows [][]string
			for _, l := range list {
				days := int(time.Until(l.Due).Hours() / 24)
				due := fmt.Sprintf("in %d Tagen", days)
				if days <= 0 {
					due = "bei der nächsten täglichen Prüfung"
				}
				rows = append(rows, []string{l.Account, l.Name, l.LeftAt.Local().Format("2006-01-02"), l.Due.Local().Format("2006-01-02"), due})
			}
			e.table("KONTO\tNAME\tGESPERRT AM\tGELÖSCHT AB\tFÄLLIG", rows)
			e.printf("%d Abgänger\n", len(list))
			return nil
		}})
}
