package policy

import "testing"

func TestMailRules(t *testing.T) {
	lim := DefaultMailLimits()
	cases := []struct {
		name string
		d    Decision
		want Rule // "" = allowed
	}{
		{"own sender", CheckSender("max.mueller", "schule.test", "Max.Mueller@Schule.TEST"), ""},
		{"foreign sender", CheckSender("max.mueller", "schule.test", "erika@schule.test"), MailInternal},
		{"external sender domain", CheckSender("max.mueller", "schule.test", "max.mueller@gmail.com"), MailInternal},
		{"null sender", CheckSender("max.mueller", "schule.test", ""), MailInternal},
		{"internal rcpt", second(CheckRecipientDomain("schule.test", "a.b@schule.test")), ""},
		{"external rcpt", second(CheckRecipientDomain("schule.test", "a@example.org")), MailInternal},
		{"subdomain rcpt", second(CheckRecipientDomain("schule.test", "a@x.schule.test")), MailInternal},
		{"20th student rcpt", lim[Student].CheckRecipientCount(20), ""},
		{"21st student rcpt", lim[Student].CheckRecipientCount(21), MailMass},
		{"300th teacher rcpt", lim[Teacher].CheckRecipientCount(300), ""},
		{"admin unlimited", lim[Admin].CheckRecipientCount(100000), ""},
		{"student 60/h", lim[Student].CheckRate(59), ""},
		{"student 61st", lim[Student].CheckRate(60), MailMass},
		{"student own class", lim[Student].CheckGroupAddress("5a", false, true), ""},
		{"student other class", lim[Student].CheckGroupAddress("5b", false, false), MailMass},
		{"teacher of group", MailLimits{GroupAddresses: GroupsNone}.CheckGroupAddress("5a", true, false), ""},
		{"none", MailLimits{GroupAddresses: GroupsNone}.CheckGroupAddress("5a", false, true), MailMass},
		{"admin any", lim[Admin].CheckGroupAddress("5a", false, false), ""},
	}
	for _, c := range cases {
		if c.want == "" && !c.d.Allow || c.want != "" && (c.d.Allow || c.d.Rule != c.want) {
			t.Errorf("%s: %v, want %q", c.name, c.d, c.want)
		}
	}
}

func second(_ string, d Decision) Decision { return d }
