package main

import "flag"

// The group calendars: their settings, and revoking a subscription URL
// (teachers make and revoke them in the portal; the admin can end a
// leaked one).
func init() {
	register(&command{path: "calendar show", args: "GROUP",
		summary: "show a group calendar's settings: entries, whether members may write, subscription",
		flags:   func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "GROUP"); err != nil {
				return err
			}
			c, err := e.svc.CalendarShow(args[0])
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(c)
			}
			members := "nein"
			if c.MembersWrite {
				members = "ja"
			}
			feed := "keine"
			if c.FeedActive {
				feed = "aktiv seit " + c.FeedCreated.Local().Format("02.01.2006 15:04")
			}
			e.printf("Gruppe:               %s\nTermine:              %d\nÄnderungen:           %d\nMitglieder tragen ein: %s\nAbonnement-Adresse:   %s\n",
				c.Group, c.Entries, c.Changes, members, feed)
			return nil
		}})

	register(&command{path: "calendar feed-revoke", args: "GROUP",
		summary: "end a group calendar's subscription URL at once (a leaked link); teachers make a new one in the portal",
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "GROUP"); err != nil {
				return err
			}
			if err := e.svc.CalendarFeedRevoke(e.actor, args[0]); err != nil {
				return err
			}
			e.printf("Abonnement-Adresse von %s widerrufen.\n", args[0])
			return nil
		}})
}
