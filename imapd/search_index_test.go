package imapd

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// Header searches read the stored header index (store/mailsearch.go):
// decoded, case-insensitive substrings of From/To/Subject/Message-ID and
// the parsed addresses; fields outside the index still come from the
// message. STATUS UNSEEN follows every flag change from the counts.
func TestIMAPHeaderSearchIndexAndStatusCounts(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	e.deliver(t, "From: <a (Kommentar)@ (noch einer) Beispiel.TEST>\r\nSubject: Zweite\r\n\r\nText\r\n", "erika.muster")
	c := e.login(t, "erika.muster@schule.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	hdr := func(k, v string) *imap.SearchCriteria {
		return &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: k, Value: v}}}
	}
	cases := []struct {
		crit *imap.SearchCriteria
		want []imap.UID
	}{
		{hdr("From", "MÜLLER"), []imap.UID{1}},
		{hdr("from", "max.mueller@SCHULE"), []imap.UID{1}},
		{hdr("Subject", "grüSSe"), nil}, // ß is not SS in a substring match
		{hdr("Subject", "GRÜßE"), []imap.UID{1}},
		{hdr("Message-ID", "<ABC@"), []imap.UID{1}},
		{hdr("To", "erika"), []imap.UID{1}},
		{hdr("From", "a@beispiel.test"), []imap.UID{2}}, // the parsed address
		{hdr("Subject", ""), []imap.UID{1, 2}},
		{hdr("Cc", ""), nil},
		{hdr("Content-Type", "multipart/alternative"), []imap.UID{1}}, // not indexed: from the message
		{&imap.SearchCriteria{Not: []imap.SearchCriteria{*hdr("Subject", "zweite")}}, []imap.UID{1}},
		{&imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{*hdr("Subject", "zweite"), *hdr("From", "müller")}}}, []imap.UID{1, 2}},
	}
	for _, tc := range cases {
		d, err := c.UIDSearch(tc.crit, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got := d.AllUIDs(); !slices.Equal(got, tc.want) {
			t.Errorf("SEARCH %+v: %v, want %v", tc.crit, got, tc.want)
		}
	}

	status := func() (uint32, uint32) {
		d, err := c.Status("INBOX", &imap.StatusOptions{NumUnseen: true, NumDeleted: true}).Wait()
		if err != nil || d.NumUnseen == nil || d.NumDeleted == nil {
			t.Fatalf("STATUS: %+v %v", d, err)
		}
		return *d.NumUnseen, *d.NumDeleted
	}
	if u, d := status(); u != 2 || d != 0 {
		t.Fatalf("STATUS unseen %d deleted %d, want 2 0", u, d)
	}
	if _, err := c.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Collect(); err != nil {
		t.Fatal(err)
	}
	if u, d := status(); u != 1 || d != 1 {
		t.Fatalf("STATUS after STORE: unseen %d deleted %d, want 1 1", u, d)
	}
	// Flags and indexed fields in one search (read in one pass).
	for _, tc := range []struct {
		crit *imap.SearchCriteria
		want []imap.UID
	}{
		{&imap.SearchCriteria{Header: hdr("Subject", "").Header, NotFlag: []imap.Flag{imap.FlagSeen}}, []imap.UID{2}},
		{&imap.SearchCriteria{Header: hdr("From", "müller").Header, Flag: []imap.Flag{imap.FlagDeleted}}, []imap.UID{1}},
		{&imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Flag: []imap.Flag{imap.FlagSeen}}, *hdr("Subject", "zweite")}},
			Not: []imap.SearchCriteria{{Flag: []imap.Flag{imap.FlagDeleted}, Header: hdr("To", "erika").Header}}}, []imap.UID{2}},
	} {
		d, err := c.UIDSearch(tc.crit, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if got := d.AllUIDs(); !slices.Equal(got, tc.want) {
			t.Errorf("SEARCH %+v: %v, want %v", tc.crit, got, tc.want)
		}
	}
	if _, err := c.Expunge().Collect(); err != nil {
		t.Fatal(err)
	}
	if u, d := status(); u != 1 || d != 0 {
		t.Fatalf("STATUS after EXPUNGE: unseen %d deleted %d, want 1 0", u, d)
	}
	// The client library does not parse [UNSEEN n]: read it raw.
	nc, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "a LOGIN erika.muster@schule.test %q\r\nb SELECT INBOX\r\n", pw)
	r := bufio.NewReader(nc)
	var got string
	for !strings.HasPrefix(got, "b ") {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(line, "[UNSEEN ") {
			got = line
			if !strings.Contains(line, "[UNSEEN 1]") {
				t.Fatalf("SELECT: %q, want [UNSEEN 1]", line)
			}
		}
		if strings.HasPrefix(line, "b ") {
			if !strings.Contains(got, "[UNSEEN 1]") {
				t.Fatalf("SELECT gave no [UNSEEN 1]")
			}
			got = line
		}
	}
}
