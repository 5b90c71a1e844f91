package main

import (
	"flag"

	"schulhof/internal/admin"
	"schulhof/policy"
)

func init() {
	scopeFlags := func(fs *flag.FlagSet) {
		fs.Bool("platform", false, "Einwilligung in die Nutzung der Plattform (CONSENT-PLATFORM)")
		fs.Bool("comms", false, "Einwilligung in E-Mail und Chat (CONSENT-COMMS)")
	}
	register(&command{path: "consent record", args: "NAME", summary: "record a signed consent form (platform or e-mail/chat)\nWho must sign depends on the age on the day of signing: below 14 eltern, 14 to 17 beide, from 18 schueler; staff sign themselves (schueler/selbst).",
		flags: func(fs *flag.FlagSet) {
			scopeFlags(fs)
			fs.String("by", "", "who signed: eltern, schueler (selbst) or beide (required)")
			fs.String("date", "", "day of the signature, YYYY-MM-DD (required)")
			fs.String("form", "", "version of the form, e.g. 2026-08 (required)")
			fs.Bool("json", false, "print JSON")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			scope, err := consentScope(fs)
			if err != nil {
				return err
			}
			if str(fs, "by") == "" || str(fs, "date") == "" || str(fs, "form") == "" {
				return usagef("--by, --date and --form are required")
			}
			a, err := e.svc.RecordConsent(e.actor, args[0], admin.ConsentForm{Scope: scope, By: str(fs, "by"), Date: str(fs, "date"), Form: str(fs, "form")})
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(a)
			}
			e.printf("Einwilligung (%s) für %s erfasst.\n", scope.Text(), a.Name)
			return nil
		}})

	register(&command{path: "consent withdraw", args: "NAME", summary: "record a withdrawal: the account loses what it covered at once and what the person stored there is erased\n--platform: no login anywhere, open sessions end, everything the person stored is erased.\n--comms: mail and chat close and are erased; files stay.",
		flags: func(fs *flag.FlagSet) {
			scopeFlags(fs)
			fs.Bool("json", false, "print JSON")
		},
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			scope, err := consentScope(fs)
			if err != nil {
				return err
			}
			w, err := e.svc.WithdrawConsent(e.actor, args[0], scope)
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(w)
			}
			if scope == policy.ScopeComms {
				e.printf("Einwilligung (%s) von %s widerrufen am %s: E-Mail und Chat sind geschlossen, ihre Inhalte gelöscht; Dateien bleiben.\n",
					scope.Text(), w.Account, fmtTime(w.At))
			} else {
				e.printf("Einwilligung (%s) von %s widerrufen am %s: das Konto ist gesperrt, offene Sitzungen sind beendet, alles Gespeicherte ist gelöscht; der Name wird nie wieder vergeben.\n",
					scope.Text(), w.Account, fmtTime(w.At))
			}
			e.printf("%s", admin.ErasureText(w.Report))
			return nil
		}})

	register(&command{path: "consent show", args: "NAME", summary: "show an account's consents: date, signer, form version, who recorded them, withdrawal",
		flags: func(fs *flag.FlagSet) { fs.Bool("json", false, "print JSON") },
		run: func(e *env, fs *flag.FlagSet, args []string) error {
			if err := need(args, 1, "NAME"); err != nil {
				return err
			}
			info, err := e.svc.ShowConsent(args[0])
			if err != nil {
				return err
			}
			if boolean(fs, "json") {
				return e.printJSON(info)
			}
			e.printf("Konto:            %s\n", info.Account)
			e.printf("Geburtsdatum:     %s\n", orDash(info.BirthDate))
			e.printf("Unterschreiben:   %s\n", info.Needed)
			for _, c := range info.Consents {
				e.printf("\n%s:\n", c.Scope.Text())
				e.printf("  Status:         %s\n", consentState(c))
				if r := c.Record; r != nil && r.GivenOn != "" {
					e.printf("  gegeben am:     %s\n  von:            %s\n  Formular:       %s\n  erfasst:        %s von %s\n",
						r.GivenOn, policy.SignerText(policy.Signer(r.GivenBy), policy.Role(info.Role)), r.Form, fmtTime(r.RecordedAt), r.RecordedBy)
				}
				if r := c.Record; r != nil && !r.WithdrawnAt.IsZero() {
					e.printf("  widerrufen:     %s von %s\n", fmtTime(r.WithdrawnAt), r.WithdrawnBy)
				}
			}
			return nil
		}})
}

func consentScope(fs *flag.FlagSet) (policy.ConsentScope, error) {
	p, c := boolean(fs, "platform"), boolean(fs, "comms")
	switch {
	case p && !c:
		return policy.ScopePlatform, nil
	case c && !p:
		return policy.ScopeComms, nil
	}
	return "", usagef("give exactly one of --platform and --comms")
}

func consentState(c admin.ConsentStatus) string {
	switch {
	case c.Given:
		return "erteilt"
	case c.Record != nil && !c.Record.WithdrawnAt.IsZero():
		return "widerrufen"
	}
	return "nicht erteilt"
}
