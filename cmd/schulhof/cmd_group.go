package main

import (
	"flag"
	"strconv"
	"strings"

	"schulhof/store"
)

func init() {
	register(&command{path: "group add", args: "NAME", summary: "create a group (class, course or other)",
		flags: func(fs *flag.FlagSet) { fs.String("kind", "", "class, course or other (required)") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			if str(fs, "kind") == "" {
				return usagef("--kind is required (class, course or other)")
			}
			name, err := e.svc.AddGroup(e.actor, args[0], str(fs, "kind"))
			if err != nil {
				return err
			}
			e.printf("%s  %s\n", name, e.svc.Address(name))
			return nil
		}})

	register(&command{path: "group list", summary: "list groups with their members and teachers",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			groups, err := e.svc.Groups()
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(groups)
			}
			var rows [][]string
			for _, g := range groups {
				rows = append(rows, []string{g.Name, g.Kind, strconv.Itoa(len(g.Members)), orDash(strings.Join(g.Teachers, ", "))})
			}
			e.table("GROUP\tKIND\tMEMBERS\tTEACHERS", rows)
			return nil
		}})

	for _, list := range []struct {
		word string
		role store.GroupRole
	}{{"member", store.AsMember}, {"teacher", store.AsTeacher}} {
		for _, add := range []bool{true, false} {
			verb := "remove"
			if add {
				verb = "add"
			}
			register(&command{path: "group " + list.word + " " + verb, args: "GROUP NAME...",
				summary: verb + " " + list.word + "s of a group",
				run: func(e *env, fs *flag.FlagSet, args []string) error {
					if len(args) < 2 {
						return usagef("expected GROUP NAME...")
					}
					changed, err := e.svc.ChangeMembers(e.actor, args[0], list.role, add, args[1:])
					if err != nil {
						return err
					}
					e.printf("%s %d %s(s) of %s: %s\n", map[bool]string{true: "added", false: "removed"}[add],
						len(changed), list.word, args[0], orDash(strings.Join(changed, ", ")))
					return nil
				}})
		}
	}
}
