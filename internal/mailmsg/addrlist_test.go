package mailmsg

import (
	"reflect"
	"testing"
)

// Groups, comments inside an addr-spec and source routes are read as
// IMAP's ENVELOPE shows them (RFC 3501 §7.4.2).
func TestParseAddressList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Address
	}{
		{"group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;", []Address{
			{Mailbox: "group"}, {Mailbox: "g1", Host: "d1.org"}, {Mailbox: "g2", Host: "d2.org"}, {},
			{Mailbox: "group2"}, {Mailbox: "g3", Host: "d3.org"}, {}}},
		{"group:;, group2: (foo) ;", []Address{{Mailbox: "group"}, {}, {Mailbox: "group2"}, {}}},
		{"<user-from (comment)@ (comment) domain.org>", []Address{{Mailbox: "user-from", Host: "domain.org"}}},
		{"user@domain.org (Real Name)", []Address{{Name: "Real Name", Mailbox: "user", Host: "domain.org"}}},
		{"<@route:user@domain>", []Address{{Route: "@route", Mailbox: "user", Host: "domain"}}},
		{`"Doe, Jane" <jane@x.org>, bob@y.org`, []Address{{Name: "Doe, Jane", Mailbox: "jane", Host: "x.org"}, {Mailbox: "bob", Host: "y.org"}}},
	} {
		if got := ParseAddressList(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}
