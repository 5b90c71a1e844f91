package main

import (
	"flag"
	"strings"

	"golang.org/x/net/idna"

	"schulhof/internal/admin"
)

// The LINK-BLOCK list: links to these domains (and their subdomains) are
// refused in mail and chat.
func init() {
	register(&command{path: "blocklist add", args: "DOMAIN...",
		summary: "block links to domains and their subdomains in mail and chat (LINK-BLOCK)",
		flags:   func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if len(args) == 0 {
				return usagef("expected DOMAIN...")
			}
			res, err := e.svc.BlocklistAdd(e.actor, args)
			return printBlocklistResult(e, fs, res, err)
		}})

	register(&command{path: "blocklist remove", args: "DOMAIN...",
		summary: "unblock domains (only the entries named: removing www.example.com leaves example.com blocked)",
		flags:   func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if len(args) == 0 {
				return usagef("expected DOMAIN...")
			}
			res, err := e.svc.BlocklistRemove(e.actor, args)
			return printBlocklistResult(e, fs, res, err)
		}})

	register(&command{path: "blocklist list", summary: "list the blocked domains",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			list, err := e.svc.BlocklistList()
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(list)
			}
			for _, d := range list {
				if u, err := idna.ToUnicode(d); err == nil && u != d {
					e.printf("%s  (%s)\n", d, u) // xn--bcher-kva.de  (bücher.de)
					continue
				}
				e.printf("%s\n", d)
			}
			return nil
		}})

	register(&command{path: "blocklist import", args: "FILE", fileArg: true,
		summary: "add the domains of a file: one domain a line, # comments, blank lines; hosts-file lines\n" +
			"(\"0.0.0.0 ads.example\") are read too. A file with any bad line adds nothing.",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "FILE"); err != nil {
				return err
			}
			res, err := e.svc.BlocklistImport(e.actor, e.stdin)
			return printBlocklistResult(e, fs, res, err)
		}})
}

func printBlocklistResult(e *env, fs *flag.FlagSet, res admin.BlocklistResult, err error) error {
	if err != nil {
		return err
	}
	if boolean(fs, "json") {
		return e.printJSON(res)
	}
	if res.Lines > 0 {
		e.printf("%d domains read\n", res.Lines)
	}
	if len(res.Added) > 0 {
		e.printf("blocked %d: %s\n", len(res.Added), blocklistShort(res.Added))
	}
	if len(res.Removed) > 0 {
		e.printf("unblocked %d: %s\n", len(res.Removed), blocklistShort(res.Removed))
	}
	if len(res.Unchanged) > 0 {
		what := "already blocked"
		if fs.Name() == "schulhof blocklist remove" {
			what = "not on the list"
		}
		e.printf("%s %d: %s\n", what, len(res.Unchanged), blocklistShort(res.Unchanged))
	}
	return nil
}

// blocklistShort keeps a large import's output readable.
func blocklistShort(domains []string) string {
	const show = 10
	if len(domains) <= show {
		return strings.Join(domains, " ")
	}
	return strings.Join(domains[:show], " ") + " …"
}
