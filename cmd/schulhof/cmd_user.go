package main

import (
	"flag"
	"fmt"
	"strings"

	"schulhof/internal/admin"
	"schulhof/policy"
)

func init() {
	register(&command{path: "user add", summary: "create an account (name vorname.nachname, address, one-time password)\nWithout --password-stdin a one-time password is generated; either way the first login must change it.",
		stdinFlag: "password-stdin",
		flags: func(fs *flag.FlagSet) {
			fs.String("first", "", "first name (required)")
			fs.String("last", "", "last name (required)")
			fs.String("role", "student", "student, teacher, admin or auditor")
			fs.Var(&stringList{}, "group", "group to join (repeatable; teachers teach it); created as a class if missing")
			fs.Bool("password-stdin", false, "read the initial password from standard input")
			fs.Bool("json", false, "print JSON")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			u := admin.NewUser{First: str(fs, "first"), Last: str(fs, "last"), Role: policy.Role(str(fs, "role")),
				Groups: []string(*fs.Lookup("group").Value.(*stringList))}
			if u.First == "" || u.Last == "" {
				return usagef("--first and --last are required")
			}
			if boolean(fs, "password-stdin") {
				u.Password = firstLineOf(e.stdin)
				if u.Password == "" {
					return fmt.Errorf("no password on standard input")
				}
			}
			c, err := e.svc.AddUser(e.actor, u)
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(c)
			}
			pw := c.Password
			if pw == "" {
				pw = "(password as given)"
			}
			e.printf("%s  %s  %s\n", c.Account.Name, c.Address, pw)
			for _, g := range c.NewGroups {
				e.printf("note: created group %s (class)\n", g)
			}
			if c.Warning != "" {
				e.printf("warning: %s\n", c.Warning)
			}
			return nil
		}})

	register(&command{path: "user list", summary: "list accounts",
		flags: func(fs *flag.FlagSet) {
			fs.String("group", "", "only members and teachers of this group")
			fs.String("role", "", "only this role")
			fs.Bool("json", false, "print JSON")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 0, "no arguments"); err != nil {
				return err
			}
			list, err := e.svc.ListUsers(str(fs, "group"), str(fs, "role"))
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(list)
			}
			var rows [][]string
			for _, a := range list {
				state := "active"
				if a.Locked {
					state = "locked: " + a.LockReason
				} else if a.MustChange {
					state = "must change password"
				}
				rows = append(rows, []string{a.Name, a.First + " " + a.Last, a.Role, fmtTime(a.LastLoginAt), state})
			}
			e.table("NAME\tPERSON\tROLE\tLAST LOGIN\tSTATE", rows)
			return nil
		}})

	register(&command{path: "user show", args: "NAME", summary: "show everything stored about an account (never its password)",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			info, err := e.svc.ShowUser(args[0])
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(info)
			}
			a := info.Account
			lock := "no"
			if a.Locked {
				lock = fmt.Sprintf("yes, since %s by %s: %s", fmtTime(a.LockedAt), a.LockedBy, a.LockReason)
			}
			e.printf("account:          %s\naddress:          %s\nname:             %s %s\nrole:             %s\n", a.Name, info.Address, a.First, a.Last, a.Role)
			e.printf("groups:           %s\nteaches:          %s\n", orDash(strings.Join(info.Groups, ", ")), orDash(strings.Join(info.Teaches, ", ")))
			e.printf("locked:           %s\nmust change pw:   %s\n", lock, yesNo(a.MustChange))
			e.printf("consent platform: %s\nconsent comms:    %s\n", yesNo(a.ConsentPlatform), yesNo(a.ConsentComms))
			e.printf("created:          %s by %s\nlast login:       %s (address: auditors only, AUDIT-INSPECT)\n", fmtTime(a.CreatedAt), a.CreatedBy, fmtTime(a.LastLoginAt))
			if a.ExternalID != "" {
				e.printf("external ID:      %s\n", a.ExternalID)
			}
			if a.Nickname != "" || a.Color != "" {
				e.printf("nickname:         %s\ncolour:           %s\n", orDash(a.Nickname), orDash(a.Color))
			}
			for _, x := range info.Exceptions {
				e.printf("size exception:   %s until %s (%s)\n", policy.FormatBytes(x.Bytes), fmtTime(x.Until), x.Reason)
			}
			return nil
		}})

	register(&command{path: "user lock", args: "NAME", summary: "lock an account: every protocol refuses it and open sessions end",
		flags: func(fs *flag.FlagSet) {
			fs.String("reason", "", "why (required; shown to the user and in the audit log)")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			if err := e.svc.Lock(e.actor, args[0], str(fs, "reason")); err != nil {
				return err
			}
			e.printf("locked %s\n", args[0])
			return nil
		}})

	register(&command{path: "user unlock", args: "NAME", summary: "unlock an account",
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			if err := e.svc.Unlock(e.actor, args[0]); err != nil {
				return err
			}
			e.printf("unlocked %s\n", args[0])
			return nil
		}})

	register(&command{path: "user reset-password", args: "NAME", summary: "give a new one-time password; the user must change it at the next login",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			pw, err := e.svc.ResetPassword(e.actor, args[0])
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(map[string]string{"account": args[0], "password": pw})
			}
			e.printf("%s  %s\n", args[0], pw)
			return nil
		}})

	register(&command{path: "user passwd", args: "NAME", summary: "set a password the user asked for (PW-STRENGTH applies; must-change is cleared)",
		stdinFlag: "password-stdin",
		flags: func(fs *flag.FlagSet) {
			fs.Bool("password-stdin", false, "read the new password from standard input (required)")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			if !boolean(fs, "password-stdin") {
				return usagef("--password-stdin is required (a password on the command line would end up in the shell history)")
			}
			pw := firstLineOf(e.stdin)
			if pw == "" {
				return fmt.Errorf("no password on standard input")
			}
			if err := e.svc.SetPassword(e.actor, args[0], pw); err != nil {
				return err
			}
			e.printf("password of %s changed\n", args[0])
			return nil
		}})

	register(&command{path: "user delete", args: "NAME", summary: "delete an account and everything it stored (the name is never given again)",
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			r, err := e.svc.DeleteUser(e.actor, args[0])
			if err != nil {
				return err
			}
			e.printf("%s gelöscht; der Name wird nie wieder vergeben.\n%s", args[0], admin.ErasureText(r))
			return nil
		}})
}

func str(fs *flag.FlagSet, name string) string { return fs.Lookup(name).Value.String() }

func boolean(fs *flag.FlagSet, name string) bool { return fs.Lookup(name).Value.String() == "true" }

// firstLineOf returns the first line of input without its line ending.
func firstLineOf(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSuffix(line, "\r")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
