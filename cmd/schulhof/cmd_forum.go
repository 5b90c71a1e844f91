package main

import (
	"flag"
	"strconv"
	"strings"
)

func init() {
	register(&command{path: "forum create", args: "SHORTNAME", summary: "create a school-wide forum (every account reads it; admins moderate it)",
		flags: func(fs *flag.FlagSet) { fs.String("title", "", "the title shown in the portal") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "SHORTNAME"); err != nil {
				return err
			}
			f, err := e.svc.CreateForum(e.actor, args[0], str(fs, "title"))
			if err != nil {
				return err
			}
			e.printf("Forum %s angelegt: %s\n", f.ID, f.Title)
			return nil
		}})

	register(&command{path: "forum list", summary: "list the forums with their moderators (no posts)",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			list, err := e.svc.Forums()
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(list)
			}
			var rows [][]string
			for _, f := range list {
				kind := "Gruppe"
				if f.SchoolWide() {
					kind = "schulweit"
				}
				rows = append(rows, []string{f.ID, kind, f.Title, strconv.Itoa(f.Threads),
					orDash(strings.Join(f.Moderators, ", ")), orDash(strings.Join(f.Teachers, ", "))})
			}
			e.table("FORUM\tART\tTITEL\tTHEMEN\tMODERATOREN\tLEHRKRÄFTE (moderieren)", rows)
			return nil
		}})

	for _, c := range []struct {
		verb string
		add  bool
	}{{"add", true}, {"remove", false}} {
		register(&command{path: "forum moderator " + c.verb, args: "FORUM NAME", summary: "name (add) or remove a moderator of a forum",
			run: func(e *env, fs *flag.FlagSet, args []string) error {
				if err := need(args, 2, "FORUM NAME"); err != nil {
					return err
				}
				id, err := e.svc.SetForumModerator(e.actor, args[0], args[1], c.add)
				if err != nil {
					return err
				}
				if c.add {
					e.printf("%s moderiert jetzt %s\n", args[1], id)
				} else {
					e.printf("%s moderiert %s nicht mehr\n", args[1], id)
				}
				return nil
			}})
	}

	register(&command{path: "forum moderator list", args: "FORUM", summary: "list a forum's moderators (named ones and the group's teachers)",
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "FORUM"); err != nil {
				return err
			}
			id, err := e.svc.ResolveForum(args[0])
			if err != nil {
				return err
			}
			list, err := e.svc.Forums()
			if err != nil {
				return err
			}
			var rows [][]string
			for _, f := range list {
				if f.ID != id {
					continue
				}
				for _, m := range f.Moderators {
					rows = append(rows, []string{m, "benannt"})
				}
				for _, m := range f.Teachers {
					rows = append(rows, []string{m, "Lehrkraft der Gruppe"})
				}
				if f.SchoolWide() {
					rows = append(rows, []string{"(Administration)", "schulweites Forum"})
				}
			}
			e.table("NAME\tWARUM", rows)
			return nil
		}})
}
