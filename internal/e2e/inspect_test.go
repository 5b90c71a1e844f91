package e2e

import (
	"errors"
	"io"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/mail"

	"schulhof/internal/admin"
	"schulhof/policy"
	"schulhof/store"
)

// refusedBy checks that err is a refusal naming rule.
func refusedBy(t *testing.T, what string, err error, rule policy.Rule) {
	t.Helper()
	var re *policy.RefusalError
	if !errors.As(err, &re) || re.Decision.Rule != rule {
		t.Fatalf("%s: %v, want a refusal [%s]", what, err, rule)
	}
}

// TestInspectionFourEyes: one auditor alone cannot look (request yes,
// approve no, view no); an admin cannot at all; with a second auditor's
// approval the person finds the German notice in the INBOX (over IMAP),
// both auditors see the mail read-only (no \Seen set), the view ends after
// its time, and every step is in a chain that verifies.
func TestInspectionFourEyes(t *testing.T) {
	e := startMail(t, mailOpts{})
	max := e.user(t, "Max", "Müller", policy.Student, "5a")
	lisa := e.user(t, "Lisa", "Meier", policy.Student, "5a")
	anna := e.user(t, "Anna", "Prüf", policy.Auditor)
	bert := e.user(t, "Bert", "Prüf", policy.Auditor)
	root := e.user(t, "Rita", "Root", policy.Admin)

	// Lisa writes to Max over SMTP; Max does not read it.
	if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", lisa, pw, "127.0.0.1"), addr(lisa), []string{addr(max)},
		[]byte(msg(addr(lisa), addr(max), "Treffen", "GEHEIM-MAIL-7 um drei"))); err != nil {
		t.Fatal(err)
	}

	as := func(name string) admin.Creds { return admin.Creds{Name: name, Password: pw, Via: "cli:test"} }
	in, err := e.svc.RequestInspection(as(anna), max, "mail", "Verdacht auf Bedrohung per Mail", "AZ-2026-7")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ApproveInspection(as(anna), in.ID)
	refusedBy(t, "the requester approving", err, policy.AuditInspect)
	_, err = e.svc.ShowInspection(as(anna), in.ID)
	refusedBy(t, "view before approval", err, policy.AuditInspect)
	_, err = e.svc.ApproveInspection(as(root), in.ID)
	refusedBy(t, "an admin approving", err, policy.AuditInspect)
	_, err = e.svc.ApproveInspection(admin.Creds{Via: "cli:root"}, in.ID)
	refusedBy(t, "the OS user approving", err, policy.AuditInspect)
	_, err = e.svc.ApproveInspection(admin.Creds{Name: bert, Password: "falsch", Via: "cli:root"}, in.ID)
	refusedBy(t, "a wrong password", err, policy.AuthFailed)
	_, err = e.svc.RequestInspection(as(root), max, "mail", "Neugier", "AZ-1")
	refusedBy(t, "an admin requesting", err, policy.AuditInspect)
	if n := e.inboxCount(t, max); n != 1 {
		t.Fatalf("a notice went out before approval: %d messages", n)
	}

	approved, err := e.svc.ApproveInspection(as(bert), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if approved.Until.Sub(approved.ApprovedAt) != policy.DefaultInspectView {
		t.Fatalf("view until %v", approved.Until)
	}

	// Max reads the notice with an IMAP client.
	ic := e.imap(t, max, nil)
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := ic.Fetch(imap.UIDSetNum(imap.UID(approved.NoticeUID)), &imap.FetchOptions{Envelope: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch notice: %v %d", err, len(msgs))
	}
	if s := msgs[0].Envelope.Subject; s != "Hinweis: Einsicht in Ihre Daten (Aktenzeichen AZ-2026-7)" {
		t.Fatalf("notice subject %q", s)
	}
	mr, err := mail.CreateReader(strings.NewReader(string(msgs[0].FindBodySection(&imap.FetchItemBodySection{Peek: true}))))
	if err != nil {
		t.Fatal(err)
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p.Body)
	for _, want := range []string{"Guten Tag Max Müller", "unverzüglich informiert", "E-Mails", "Verdacht auf Bedrohung per Mail",
		"AZ-2026-7", "Beantragt von:   anna.pruef", "Genehmigt von:   bert.pruef", "nur lesend"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("notice lacks %q:\n%s", want, body)
		}
	}
	ic.Logout()

	for _, who := range []string{anna, bert} {
		v, err := e.svc.ShowInspection(as(who), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range v.Mail {
			if strings.Contains(m.Text, "GEHEIM-MAIL-7") && m.Subject == "Treffen" && strings.Contains(m.From, lisa) {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s's view lacks the message: %+v", who, v.Mail)
		}
	}
	// Read-only: nothing was marked seen.
	e.st.View(func(tx *store.Tx) error {
		box, _ := tx.MailboxByName(max, store.Inbox)
		return tx.ForEachMessage(box.ID, func(m *store.Message) error {
			if m.HasFlag(`\Seen`) {
				t.Errorf("inspection set \\Seen on uid %d", m.UID)
			}
			return nil
		})
	})
	// A third auditor, the admin: refused even while the view is open.
	carl := e.user(t, "Carl", "Prüf", policy.Auditor)
	_, err = e.svc.ShowInspection(as(carl), in.ID)
	refusedBy(t, "a third auditor viewing", err, policy.AuditInspect)
	_, err = e.svc.ShowInspection(as(root), in.ID)
	refusedBy(t, "an admin viewing", err, policy.AuditInspect)
	// Time-limited.
	e.svc.Now = func() time.Time { return approved.Until.Add(time.Minute) }
	_, err = e.svc.ShowInspection(as(anna), in.ID)
	refusedBy(t, "a view after its end", err, policy.AuditInspect)
	e.svc.Now = nil
	// Ended early by the approver: no view any more.
	_, err = e.svc.CloseInspection(as(carl), in.ID, "")
	refusedBy(t, "a third auditor closing", err, policy.AuditInspect)
	if _, err := e.svc.CloseInspection(as(bert), in.ID, "erledigt"); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ShowInspection(as(anna), in.ID)
	refusedBy(t, "a view after closing", err, policy.AuditInspect)

	// Every step is in the audit log, with the acting auditor named.
	recs, _ := e.st.AuditLog(time.Time{})
	count := map[string]int{}
	for _, r := range recs {
		count[r.Action+" "+r.Actor]++
	}
	for _, want := range []string{"inspect.request " + anna, "inspect.approve.refused " + anna, "inspect.view.refused " + anna,
		"inspect.approve.refused " + root, "inspect.approve.refused cli:root", "inspect.request.refused " + root,
		"inspect.approve " + bert, "inspect.notice " + bert, "inspect.view " + anna, "inspect.view " + bert, "inspect.view.refused " + carl, "inspect.close " + bert} {
		if count[want] == 0 {
			t.Errorf("no audit record %q in %v", want, count)
		}
	}
	if v, err := e.st.VerifyAudit(); err != nil || v.Bad != nil {
		t.Fatalf("verify: %+v %v", v, err)
	}
}

// TestInspectionScopes: the login log and chat views show the person's
// part; the same auditor approving twice stays refused.
func TestInspectionScopes(t *testing.T) {
	e := startMail(t, mailOpts{})
	max := e.user(t, "Max", "Müller", policy.Student, "5a")
	lisa := e.user(t, "Lisa", "Meier", policy.Student, "5a")
	anna := e.user(t, "Anna", "Prüf", policy.Auditor)
	bert := e.user(t, "Bert", "Prüf", policy.Auditor)
	as := func(name string) admin.Creds { return admin.Creds{Name: name, Password: pw, Via: "cli:test"} }
	now := time.Now()
	e.st.RecordLogin(store.LoginRecord{Time: now, Account: max, Protocol: "imap", IP: "10.9.8.7", OK: true})
	e.st.RecordLogin(store.LoginRecord{Time: now, Account: lisa, Protocol: "imap", IP: "10.1.1.1", OK: true})
	room := store.DirectRoomID(max, lisa)
	e.st.OpenDirectRoom(room)
	e.st.PostMessage(room, lisa, "GEHEIM-DM", now, nil)
	e.st.PostMessage(store.GroupRoomID("5a"), max, "von Max in 5a", now, nil)
	e.st.PostMessage(store.GroupRoomID("5a"), lisa, "von Lisa in 5a", now, nil)

	for _, scope := range []string{"loginlog", "chat"} {
		in, err := e.svc.RequestInspection(as(anna), max, scope, "Verdacht", "AZ-"+scope)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			_, err = e.svc.ApproveInspection(as(anna), in.ID)
			refusedBy(t, "same auditor approving", err, policy.AuditInspect)
		}
		if _, err := e.svc.ApproveInspection(as(bert), in.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.ApproveInspection(as(bert), in.ID)
		refusedBy(t, "approving twice", err, policy.AuditInspect)
		v, err := e.svc.ShowInspection(as(bert), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch scope {
		case "loginlog":
			if len(v.Logins) != 1 || v.Logins[0].IP != "10.9.8.7" || len(v.Mail)+len(v.Chat) != 0 {
				t.Fatalf("login log view %+v", v)
			}
		case "chat":
			var texts []string
			for _, m := range v.Chat {
				texts = append(texts, m.Text)
			}
			got := strings.Join(texts, "|")
			if !strings.Contains(got, "GEHEIM-DM") || !strings.Contains(got, "von Max in 5a") || strings.Contains(got, "von Lisa in 5a") || len(v.Mail) != 0 {
				t.Fatalf("chat view: %q", got)
			}
		}
	}
	if n := e.inboxCount(t, max); n != 2 {
		t.Fatalf("notices in INBOX: %d, want one per approved inspection", n)
	}
}
