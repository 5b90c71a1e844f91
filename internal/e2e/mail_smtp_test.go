package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/policy"
	"schulhof/store"
)

// smtpClient logs in over plain loopback (secure like Dovecot's rule).
func (e *mailEnv) smtpClient(t *testing.T, user string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(e.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if user != "" {
		if err := c.Auth(smtp.PlainAuth("", user, pw, "127.0.0.1")); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func code(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("%d %s", te.Code, te.Msg)
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func TestSMTPDeliverToAccountAndGroupThenIMAP(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student, "5a")
	ben := e.user(t, "Ben", "Meyer", policy.Student, "5a")
	cem := e.user(t, "Cem", "Yilmaz", policy.Student, "5b")
	lehrer := e.user(t, "Lara", "Lehrer", policy.Teacher)
	if _, err := e.st.AddToGroup("5a", 1, lehrer); err != nil {
		t.Fatal(err)
	}

	// IDLE client of Ben sees the mail arrive without polling.
	exists := make(chan uint32, 4)
	bc := e.imap(t, ben, &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
		if d.NumMessages != nil {
			exists <- *d.NumMessages
		}
	}})
	if _, err := bc.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := bc.Idle()
	if err != nil {
		t.Fatal(err)
	}

	body := msg(addr(anna), addr(ben)+", 5a@"+domain, "Hallo Klasse", "Morgen Wandertag.")
	if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", addr(anna), pw, "127.0.0.1"), addr(anna),
		[]string{addr(ben), "5a@" + domain}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-exists:
		if n != 1 {
			t.Fatalf("EXISTS %d", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("IDLE did not see the delivery")
	}
	idle.Close()
	idle.Wait()
	// Ben once (address and group), Anna and the teacher through the group, Cem not.
	for name, want := range map[string]uint32{ben: 1, anna: 1, lehrer: 1, cem: 0} {
		if got := e.inboxCount(t, name); got != want {
			t.Errorf("%s: %d messages, want %d", name, got, want)
		}
	}
	if n, _ := e.st.BlobCount(); n != 1 {
		t.Errorf("%d blobs, want one shared", n)
	}
	msgs, err := bc.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true,
		BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierHeader, Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatal(msgs, err)
	}
	hdr := string(msgs[0].BodySection[0].Bytes)
	for _, want := range []string{"Received: by mail." + domain + " (Schulhof) with ESMTPA id ", "Message-Id: <", "Date: ", "Subject: Hallo Klasse"} {
		if !strings.Contains(hdr, want) {
			t.Errorf("header lacks %q:\n%s", want, hdr)
		}
	}
	if msgs[0].Envelope.Subject != "Hallo Klasse" {
		t.Errorf("envelope %+v", msgs[0].Envelope)
	}
}

func TestSMTPRefusals(t *testing.T) {
	lim := policy.DefaultMailLimits()
	s := lim[policy.Student]
	s.MessagesPerHour = 2
	lim[policy.Student] = s
	e := startMail(t, mailOpts{limits: lim})
	anna := e.user(t, "Anna", "Schmidt", policy.Student, "5a")
	e.user(t, "Cem", "Yilmaz", policy.Student, "5b")

	// no AUTH: refused at MAIL
	c := e.smtpClient(t, "")
	if err := c.Mail(addr(anna)); !strings.HasPrefix(code(err), "530") {
		t.Errorf("unauthenticated MAIL: %v", code(err))
	}

	c = e.smtpClient(t, addr(anna))
	if ok, _ := c.Extension("SIZE"); !ok {
		t.Error("SIZE not advertised")
	}
	if err := c.Mail("cem.yilmaz@" + domain); !strings.HasPrefix(code(err), "550 5.7.1 [MAIL-INTERNAL]") {
		t.Errorf("foreign sender: %v", code(err))
	}
	if err := c.Mail(addr(anna)); err != nil {
		t.Fatal(err)
	}
	for rcpt, want := range map[string]string{
		"someone@gmail.com":     "550 5.7.1 [MAIL-INTERNAL]",
		"nobody.here@" + domain: "550 5.1.1",
		"5b@" + domain:          "550 5.7.1 [MAIL-MASS]", // not her class
	} {
		if err := c.Rcpt(rcpt); !strings.HasPrefix(code(err), want) {
			t.Errorf("RCPT %s: %v, want %s", rcpt, code(err), want)
		}
	}
	c.Reset()

	// 21 recipients: the 21st is refused
	c.Mail(addr(anna))
	for i := 1; i <= 21; i++ {
		err := c.Rcpt(addr(anna))
		if i <= 20 && err != nil {
			t.Fatalf("rcpt %d: %v", i, err)
		}
		if i == 21 && !strings.HasPrefix(code(err), "550 5.7.1 [MAIL-MASS]") {
			t.Errorf("21st rcpt: %v", code(err))
		}
	}
	c.Reset()

	// SIZE announced too large, and 20 MiB + 1 byte actually sent
	if err := c.Text.PrintfLine("MAIL FROM:<%s> SIZE=%d", addr(anna), policy.DefaultMaxTransferBytes+1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Text.ReadResponse(250); !strings.HasPrefix(code(err), "552 5.3.4 [SIZE-20MB]") {
		t.Errorf("SIZE=: %v", code(err))
	}
	c.Reset()
	if err := c.Mail(addr(anna)); err != nil {
		t.Fatal(err)
	}
	c.Rcpt(addr(anna))
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "From: %s\r\nSubject: big\r\n\r\n", addr(anna))
	line := strings.Repeat("x", 998) + "\r\n"
	big := int64(policy.DefaultMaxTransferBytes) + 1
	for written := int64(0); written < big; written += int64(len(line)) {
		w.Write([]byte(line))
	}
	if err := w.Close(); !strings.HasPrefix(code(err), "552 5.3.4 [SIZE-20MB]") {
		t.Errorf("20 MiB + 1: %v", code(err))
	}
	if n := e.inboxCount(t, anna); n != 0 {
		t.Errorf("refused message stored: %d", n)
	}

	// rate: 2 per hour, the third MAIL is refused
	for i := 0; i < 2; i++ {
		if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", anna, pw, "127.0.0.1"), addr(anna), []string{addr(anna)}, []byte(msg(addr(anna), addr(anna), "x", "y"))); err != nil {
			t.Fatal(err)
		}
	}
	c = e.smtpClient(t, anna)
	if err := c.Mail(addr(anna)); !strings.HasPrefix(code(err), "550 5.7.1 [MAIL-MASS]") {
		t.Errorf("3rd message in the hour: %v", code(err))
	}
	// wrong password
	c2, _ := smtp.Dial(e.smtpAddr)
	defer c2.Close()
	c2.Hello("x")
	if err := c2.Auth(smtp.PlainAuth("", anna, "wrong", "127.0.0.1")); !strings.HasPrefix(code(err), "535 5.7.8 [AUTH-FAILED]") {
		t.Errorf("wrong password: %v", code(err))
	}
}

func TestSMTPBadInput(t *testing.T) {
	lim := policy.DefaultMailLimits()
	lim[policy.Student] = policy.MailLimits{GroupAddresses: policy.GroupsMember} // unlimited
	e := startMail(t, mailOpts{limits: lim})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)

	// 10,000 recipients (the same one) survive and deliver once
	c := e.smtpClient(t, anna)
	c.Mail(addr(anna))
	w := bufio.NewWriter(c.Text.W)
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(w, "RCPT TO:<%s>\r\n", addr(anna))
	}
	w.Flush()
	for i := 0; i < 10000; i++ {
		if _, _, err := c.Text.ReadResponse(250); err != nil {
			t.Fatalf("rcpt %d: %v", i, err)
		}
	}
	wc, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(wc, msg(addr(anna), addr(anna), "many", "x"))
	if err := wc.Close(); err != nil {
		t.Fatal(err)
	}

	// malformed MIME and 8-bit headers are stored and stay fetchable
	bad := []string{
		"Subject: Grüße aus der Küche\r\nFrom: Jörg <anna.schmidt@" + domain + ">\r\n\r\nä\r\n",
		"From: " + addr(anna) + "\r\nContent-Type: multipart/mixed; boundary=\"nope\r\nSubject: broken\r\n\r\n--nope\r\nno end",
		"From: " + addr(anna) + "\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\n--b",
	}
	for _, b := range bad {
		if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", anna, pw, "127.0.0.1"), addr(anna), []string{addr(anna)}, []byte(b)); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
	}
	// without a header there is no From: refused (MAIL-SENDER), not stored
	for _, b := range []string{"no header at all, just text\r\n", ""} {
		err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", anna, pw, "127.0.0.1"), addr(anna), []string{addr(anna)}, []byte(b))
		if !strings.HasPrefix(code(err), "550 5.7.1 [MAIL-SENDER]") {
			t.Fatalf("%q: %v", b, code(err))
		}
	}

	// a client that disconnects mid-DATA leaves nothing behind
	before := e.inboxCount(t, anna)
	nc, err := net.Dial("tcp", e.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	tc := textproto.NewConn(nc)
	tc.ReadResponse(220)
	tc.PrintfLine("EHLO x")
	tc.ReadResponse(250)
	tc.PrintfLine("AUTH PLAIN %s", "AGFubmEuc2NobWlkdABTdHIwbmchUGFzc3cwcmQ=")
	if _, _, err := tc.ReadResponse(235); err != nil {
		t.Fatal(err)
	}
	tc.PrintfLine("MAIL FROM:<%s>", addr(anna))
	tc.ReadResponse(250)
	tc.PrintfLine("RCPT TO:<%s>", addr(anna))
	tc.ReadResponse(250)
	tc.PrintfLine("DATA")
	tc.ReadResponse(354)
	tc.PrintfLine("From: %s\r\nSubject: half\r\n\r\nhalf a message", addr(anna))
	nc.Close()
	time.Sleep(200 * time.Millisecond)
	if got := e.inboxCount(t, anna); got != before {
		t.Errorf("half message stored: %d → %d", before, got)
	}

	ic := e.imap(t, anna, nil)
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ic.Fetch(func() imap.SeqSet { var s imap.SeqSet; s.AddRange(1, sel.NumMessages); return s }(), &imap.FetchOptions{Envelope: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true}, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || uint32(len(msgs)) != sel.NumMessages || len(msgs) != 4 {
		t.Fatalf("fetch all: %d of %d: %v", len(msgs), sel.NumMessages, err)
	}
	if s := msgs[1].Envelope.Subject; !strings.Contains(s, "Grüße") {
		t.Errorf("8-bit subject: %q", s)
	}
}

// BenchmarkSMTPSubmit: authenticated submissions over loopback, each
// durably delivered before its 250 (parallel clients, one message per
// connection as mail clients do).
func BenchmarkSMTPSubmit(b *testing.B) {
	lim := policy.DefaultMailLimits()
	lim[policy.Student] = policy.MailLimits{GroupAddresses: policy.GroupsMember}
	e := startMailB(b, mailOpts{limits: lim})
	e.user(b, "Anna", "Schmidt", policy.Student)
	body := []byte(msg("anna.schmidt@"+domain, "anna.schmidt@"+domain, "bench", strings.Repeat("Zeile mit Text\n", 200)))
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", "anna.schmidt", pw, "127.0.0.1"),
				"anna.schmidt@"+domain, []string{"anna.schmidt@" + domain}, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func TestSMTPLockEndsSession(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	c := e.smtpClient(t, anna)
	if err := e.svc.Lock("test", anna, "Test"); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 50 && err == nil; i++ {
		time.Sleep(20 * time.Millisecond)
		err = c.Noop()
	}
	if err == nil {
		t.Fatal("SMTP session of a locked account still open")
	}
	c2, _ := smtp.Dial(e.smtpAddr)
	defer c2.Close()
	c2.Hello("x")
	if err := c2.Auth(smtp.PlainAuth("", anna, pw, "127.0.0.1")); !strings.Contains(code(err), "[ACCOUNT-LOCKED]") {
		t.Fatalf("login of a locked account: %v", code(err))
	}
}

// An admin's size exception lets one account send more than 20 MiB (when
// the hard cap allows it); others stay at the limit.
func TestSMTPSizeException(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	ben := e.user(t, "Ben", "Meyer", policy.Student)
	if err := e.st.AddException(store.Exception{Account: anna, Bytes: 25 << 20, Until: time.Now().Add(time.Hour), Reason: "Projekt"}); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat(strings.Repeat("z", 98)+"\r\n", 22<<20/100)
	big := []byte("From: " + addr(anna) + "\r\nSubject: gross\r\n\r\n" + body)
	if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", anna, pw, "127.0.0.1"), addr(anna), []string{addr(anna)}, big); err != nil {
		t.Fatalf("with exception: %v", code(err))
	}
	big = []byte("From: " + addr(ben) + "\r\nSubject: gross\r\n\r\n" + body)
	err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", ben, pw, "127.0.0.1"), addr(ben), []string{addr(ben)}, big)
	if !strings.HasPrefix(code(err), "552 5.3.4 [SIZE-20MB]") {
		t.Fatalf("without exception: %v", code(err))
	}
}
