package policy

import (
	"testing"
	"time"
)

func TestCheckHeaderSenders(t *testing.T) {
	lim := DefaultMailLimits()
	own := HeaderSender{Field: "From", Address: "Max.Mueller@SCHULE.test"}
	teacher := HeaderSender{Field: "From", Address: "lara.lehrer@schule.test"}
	class := func(teaches, member bool) HeaderSender {
		return HeaderSender{Field: "From", Address: "5a@schule.test", Group: &SenderGroup{Name: "5a", IsTeacher: teaches, IsMember: member}}
	}
	cases := []struct {
		name    string
		l       MailLimits
		senders []HeaderSender
		allow   bool
	}{
		{"own, any case", lim[Student], []HeaderSender{own}, true},
		{"own From, own Sender", lim[Student], []HeaderSender{own, {Field: "Sender", Address: "max.mueller@schule.test"}}, true},
		{"no From", lim[Student], nil, false},
		{"only Sender", lim[Student], []HeaderSender{{Field: "Sender", Address: "max.mueller@schule.test"}}, false},
		{"a teacher's address", lim[Student], []HeaderSender{teacher}, false},
		{"own and a teacher's", lim[Student], []HeaderSender{own, teacher}, false},
		{"own From, teacher as Sender", lim[Student], []HeaderSender{own, {Field: "Sender", Address: "lara.lehrer@schule.test"}}, false},
		{"own name, other domain", lim[Student], []HeaderSender{{Field: "From", Address: "max.mueller@gmail.com"}}, false},
		{"no address", lim[Student], []HeaderSender{{Field: "From", Address: "undisclosed"}}, false},
		{"member as class", lim[Student], []HeaderSender{class(false, true)}, false},
		{"teacher as own class", lim[Teacher], []HeaderSender{class(true, false)}, true},
		{"teacher as other class", lim[Teacher], []HeaderSender{class(false, false)}, false},
		{"admin as any group", lim[Admin], []HeaderSender{class(false, false)}, true},
		{"group-like name without group", lim[Admin], []HeaderSender{{Field: "From", Address: "5a@schule.test"}}, false},
	}
	for _, c := range cases {
		d := c.l.CheckHeaderSenders("max.mueller", "schule.test", c.senders)
		if d.Allow != c.allow || !d.Allow && d.Rule != MailSender {
			t.Errorf("%s: %v, want allow=%v", c.name, d, c.allow)
		}
	}
}

func TestCheckRecipientSizes(t *testing.T) {
	e := NewEngine()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ok := []SizeException{{Bytes: 30 << 20, Until: now.Add(time.Hour)}}
	expired := []SizeException{{Bytes: 30 << 20, Until: now.Add(-time.Second)}}
	rs := []RecipientSize{{"anna", ok}, {"ben", nil}, {"cem", expired}, {"dora", ok}}
	if over, d := e.CheckRecipientSizes(20<<20, rs, now); !d.Allow || over != nil {
		t.Fatalf("20 MiB: %v %v", over, d)
	}
	over, d := e.CheckRecipientSizes(21<<20, rs, now)
	if d.Allow || d.Rule != Size20MB || len(over) != 2 || over[0] != "ben" || over[1] != "cem" {
		t.Fatalf("21 MiB: %v %v", over, d)
	}
	if over, d := e.CheckRecipientSizes(21<<20, []RecipientSize{{"anna", ok}}, now); !d.Allow || over != nil {
		t.Fatalf("21 MiB with exception: %v %v", over, d)
	}
	if _, d := e.CheckRecipientSizes(31<<20, []RecipientSize{{"anna", ok}}, now); d.Allow {
		t.Fatal("over the exception")
	}
}
