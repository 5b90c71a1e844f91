package e2e

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/smtpd"
	"schulhof/store"
)

// submit sends one message as user (login name) from its own envelope
// address and returns the reply to the final dot as "code text".
func (e *mailEnv) submit(t *testing.T, user string, rcpts []string, message string) string {
	t.Helper()
	c := e.smtpClient(t, user)
	defer c.Close()
	if err := c.Mail(addr(user)); err != nil {
		return code(err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return code(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return code(err)
	}
	io.WriteString(w, message)
	if err := w.Close(); err != nil {
		return code(err)
	}
	return "250"
}

// lastMessage is the newest message in account's INBOX as stored.
func (e *mailEnv) lastMessage(t *testing.T, account string) string {
	t.Helper()
	var hash string
	err := e.st.View(func(tx *store.Tx) error {
		m, err := tx.MailboxByName(account, store.Inbox)
		if err != nil {
			return err
		}
		return tx.ForEachMessage(m.ID, func(msg *store.Message) error { hash = msg.Blob; return nil })
	})
	if err != nil || hash == "" {
		t.Fatalf("no message for %s: %v", account, err)
	}
	f, err := e.st.OpenContent(hash)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

// MAIL-SENDER: header From and Sender must be addresses the account may
// use, however they are written.
func TestSMTPHeaderSender(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student, "5a")
	lara := e.user(t, "Lara", "Lehrer", policy.Teacher)
	if _, err := e.st.AddToGroup("5a", store.AsTeacher, lara); err != nil {
		t.Fatal(err)
	}
	body := "To: " + addr(anna) + "\r\nSubject: Test\r\n\r\nHallo\r\n"
	cases := []struct {
		name, user, header, want string
	}{
		{"own", anna, "From: " + addr(anna) + "\r\n", "250"},
		{"own, other case, display name", anna, "From: Anna S <ANNA.Schmidt@Schule.TEST>\r\n", "250"},
		{"own, a teacher's name as display name", anna, "From: \"lara.lehrer@schule.test\" <" + addr(anna) + ">\r\n", "250"},
		{"own, encoded display name", anna, "From: =?utf-8?q?Lara_Lehrer?= <" + addr(anna) + ">\r\n", "250"},
		{"own with a comment", anna, "From: " + addr(anna) + " (Lara Lehrer)\r\n", "250"},
		{"own From and Sender", anna, "From: " + addr(anna) + "\r\nSender: " + addr(anna) + "\r\n", "250"},
		{"teacher", anna, "From: " + addr(lara) + "\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"teacher, upper case", anna, "From: Frau Lehrer <LARA.LEHRER@SCHULE.TEST>\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"teacher after a comment", anna, "From: (anna.schmidt@schule.test) " + addr(lara) + "\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"own and teacher", anna, "From: " + addr(anna) + ", " + addr(lara) + "\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"teacher in a group list", anna, "From: Kollegium: " + addr(lara) + ";\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"teacher folded", anna, "From: Anna\r\n <" + addr(lara) + ">\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"second From field", anna, "From: " + addr(anna) + "\r\nFrom: " + addr(lara) + "\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"teacher as Sender", anna, "From: " + addr(anna) + "\r\nSender: " + addr(lara) + "\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"encoded address only", anna, "From: =?utf-8?q?lara.lehrer=40schule.test?=\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"external", anna, "From: " + anna + "@gmail.com\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"no From", anna, "", "550 5.7.1 [MAIL-SENDER]"},
		{"empty From", anna, "From: \r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"pupil as her class", anna, "From: Klasse 5a <5a@" + domain + ">\r\n", "550 5.7.1 [MAIL-SENDER]"},
		{"teacher as her class", lara, "From: Klasse 5a <5a@" + domain + ">\r\n", "250"},
	}
	stored := e.inboxCount(t, anna)
	for _, c := range cases {
		got := e.submit(t, c.user, []string{addr(anna)}, c.header+body)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
		if strings.HasPrefix(c.want, "250") {
			stored++
		}
	}
	if n := e.inboxCount(t, anna); n != stored {
		t.Errorf("%d messages stored, want %d (refused ones must not be)", n, stored)
	}
}

// What recipients see of a submission: no Bcc field, no client address or
// HELO name anywhere in the header.
func TestSMTPHeaderPrivacy(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	ben := e.user(t, "Ben", "Meyer", policy.Student)
	cem := e.user(t, "Cem", "Yilmaz", policy.Student)
	msg := "From: " + addr(anna) + "\r\nTo: " + addr(ben) + "\r\nBcc: " + addr(cem) + "\r\nSubject: x\r\nBCC: Geheim <" + addr(cem) + ">,\r\n  " + addr(ben) + "\r\nResent-Bcc: " + addr(cem) + "\r\n\r\nBcc: im Text bleibt\r\n"
	if got := e.submit(t, anna, []string{addr(ben), addr(cem)}, msg); got != "250" {
		t.Fatal(got)
	}
	for _, who := range []string{ben, cem} {
		m := e.lastMessage(t, who)
		head, body, _ := strings.Cut(m, "\r\n\r\n")
		// Field names, not any "bcc" (a random Message-Id may hold one).
		lower := "\r\n" + strings.ToLower(head)
		if strings.Contains(lower, "\r\nbcc:") || strings.Contains(lower, "\r\nresent-bcc:") || strings.Contains(head, cem) {
			t.Errorf("%s sees the Bcc: %q", who, head)
		}
		if body != "Bcc: im Text bleibt\r\n" {
			t.Errorf("body changed: %q", body)
		}
		for _, leak := range []string{"127.0.0.1", "client.test", "[", "from "} {
			if strings.Contains(head, leak) {
				t.Errorf("header shows %q: %q", leak, head)
			}
		}
		if !strings.HasPrefix(head, "Received: by mail."+domain+" (Schulhof) with ESMTPA id ") {
			t.Errorf("Received: %q", head)
		}
	}
}

// rawDATA sends MAIL, RCPT and DATA over a plain connection, writes data
// (the dot added) while reading, and returns the reply to the DATA
// transfer: a refusal must reach the client even when the server stops
// reading mid-message.
func (e *mailEnv) rawDATA(t *testing.T, user string, data string) string {
	t.Helper()
	nc, err := net.Dial("tcp", e.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tc := textproto.NewConn(nc)
	step := func(want int, format string, args ...any) {
		t.Helper()
		if format != "" {
			tc.PrintfLine(format, args...)
		}
		if _, _, err := tc.ReadResponse(want); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
	}
	step(220, "")
	step(250, "EHLO client.test")
	step(235, "AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("\x00"+user+"\x00"+pw)))
	step(250, "MAIL FROM:<%s>", addr(user))
	step(250, "RCPT TO:<%s>", addr(user))
	step(354, "DATA")
	go func() {
		w := bufio.NewWriter(nc)
		w.WriteString(data)
		w.WriteString("\r\n.\r\n")
		w.Flush()
	}()
	nc.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := tc.ReadLine()
	if err != nil {
		return err.Error()
	}
	return line
}

// LIMIT-HEADER: an over-long line (in the header or the body) or an
// over-large header is refused permanently, naming the bound, and the
// client reads that answer; nothing is stored.
func TestSMTPLineAndHeaderBounds(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	from := "From: " + addr(anna) + "\r\n"
	cases := map[string]string{
		"1 MB header line":     from + "X-Long: " + strings.Repeat("a", 1<<20) + "\r\n\r\nbody",
		"long line in body":    from + "Subject: x\r\n\r\nshort\r\n" + strings.Repeat("b", 5000) + "\r\n",
		"header over 256 KiB":  from + strings.Repeat("X-Many: "+strings.Repeat("c", 990)+"\r\n", 300) + "\r\nbody",
		"folded header 300 KB": from + "X-Folded: x\r\n" + strings.Repeat(" "+strings.Repeat("d", 990)+"\r\n", 300) + "\r\nbody",
	}
	for name, data := range cases {
		got := e.rawDATA(t, anna, data)
		if !strings.HasPrefix(got, "552 5.3.4 [LIMIT-HEADER]") {
			t.Errorf("%s: %s", name, got)
		}
		if !strings.Contains(got, "line_bytes") && !strings.Contains(got, "header_bytes") {
			t.Errorf("%s: the bound is not named: %s", name, got)
		}
	}
	if n := e.inboxCount(t, anna); n != 0 {
		t.Errorf("%d refused messages stored", n)
	}
	// at the bound itself the message is taken
	ok := from + "X-Ok: " + strings.Repeat("e", 3900) + "\r\n\r\nbody\r\n"
	if got := e.submit(t, anna, []string{addr(anna)}, ok); !strings.HasPrefix(got, "250") {
		t.Errorf("3900-byte line: %s", got)
	}
}

// LIMIT-MIME at SMTP DATA and IMAP APPEND: too many parts (a million
// empty ones in 7 MB) or too deep a nesting is refused, nothing stored;
// APPEND also refuses a header over header_bytes (LIMIT-HEADER).
func TestMIMEBounds(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	parts := func(n int) string {
		return "From: " + addr(anna) + "\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\n\r\n", n) + "--b--\r\n"
	}
	bounds := policy.NewEngine()                    // the defaults startMail runs with
	maxParts := int(bounds.Bound(policy.MIMEParts)) // the top part counts too
	deep := "From: " + addr(anna) + "\r\n"
	for i := 0; i < int(bounds.Bound(policy.MIMEDepth))+10; i++ {
		deep += fmt.Sprintf("Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	deep += "\r\ninnen\r\n"
	// header_bytes bounds every part's header as it does the top one.
	manyFields := strings.Repeat("X-Many: "+strings.Repeat("c", 990)+"\r\n", 300)
	partHeader := "From: " + addr(anna) + "\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + manyFields + "\r\nteil\r\n--b--\r\n"
	rfc822Header := "From: " + addr(anna) + "\r\nContent-Type: message/rfc822\r\n\r\nSubject: innen\r\n" + manyFields + "\r\nteil\r\n"
	for name, c := range map[string]struct{ msg, want string }{
		"a part's 300 KB header":              {partHeader, "552 5.3.4 [LIMIT-HEADER]"},
		"an attached message's 300 KB header": {rfc822Header, "552 5.3.4 [LIMIT-HEADER]"},
	} {
		if got := e.rawDATA(t, anna, c.msg); !strings.HasPrefix(got, c.want) || !strings.Contains(got, "header_bytes") {
			t.Errorf("SMTP %s: %s, want %s naming header_bytes", name, got, c.want)
		}
	}
	for name, c := range map[string]struct{ msg, want string }{
		"9,999 parts":     {parts(maxParts - 1), "250"},
		"10,000 parts":    {parts(maxParts), "552 5.3.4 [LIMIT-MIME]"},
		"a million parts": {parts(1_000_000), "552 5.3.4 [LIMIT-MIME]"},
		"60 levels deep":  {deep, "552 5.3.4 [LIMIT-MIME]"},
	} {
		if got := e.submit(t, anna, []string{addr(anna)}, c.msg); !strings.HasPrefix(got, c.want) {
			t.Errorf("SMTP %s: %s, want %s", name, got, c.want)
		}
	}
	if n := e.inboxCount(t, anna); n != 1 {
		t.Errorf("%d messages stored, want 1", n)
	}
	ic := e.imap(t, anna, nil)
	for name, c := range map[string]struct {
		msg string
		ok  bool
	}{"9,999 parts": {parts(9_999), true}, "10,000 parts": {parts(10_000), false}, "60 levels deep": {deep, false},
		"a 300 KB header": {"From: " + addr(anna) + "\r\n" + strings.Repeat("X-Many: "+strings.Repeat("c", 990)+"\r\n", 300) + "\r\nbody\r\n", false}} {
		cmd := ic.Append("INBOX", int64(len(c.msg)), nil)
		io.WriteString(cmd, c.msg)
		cmd.Close()
		_, err := cmd.Wait()
		if c.ok != (err == nil) || !c.ok && !strings.Contains(fmt.Sprint(err), "[LIMIT-MIME]") && !strings.Contains(fmt.Sprint(err), "[LIMIT-HEADER]") {
			t.Errorf("APPEND %s: %v", name, err)
		}
	}
	for name, msg := range map[string]string{"a part's 300 KB header": partHeader, "an attached message's 300 KB header": rfc822Header} {
		cmd := ic.Append("INBOX", int64(len(msg)), nil)
		io.WriteString(cmd, msg)
		cmd.Close()
		if _, err := cmd.Wait(); !strings.Contains(fmt.Sprint(err), "[LIMIT-HEADER]") || !strings.Contains(fmt.Sprint(err), "header_bytes") {
			t.Errorf("APPEND %s: %v", name, err)
		}
	}
	if n := e.inboxCount(t, anna); n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}
}

// smtpOn runs smtpd on the store in dir with the given limits; stop closes
// both (for restarts).
func smtpOn(t *testing.T, dir string, lim map[policy.Role]policy.MailLimits) (st *store.Store, smtpAddr string, stop func()) {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(st, auth.Options{Domain: domain, CacheTTL: time.Minute, Logger: log})
	sm := smtpd.New(smtpd.Options{Store: st, Auth: v, Domain: domain, Hostname: "mail." + domain, Limits: lim, Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go sm.Serve(ln)
	return st, ln.Addr().String(), func() { sm.Close(); v.Close(); st.Close() }
}

// MAIL-MASS under concurrency and across a restart: of 30 parallel
// sessions against a limit of 7 an hour exactly 7 deliver; refused and
// failed transactions do not count; after a restart the count is still
// there.
func TestSMTPRateParallelAndPersistent(t *testing.T) {
	lim := policy.DefaultMailLimits()
	s := lim[policy.Student]
	s.MessagesPerHour = 7
	lim[policy.Student] = s
	dir := t.TempDir()
	st, smtpAddr, stop := smtpOn(t, dir, lim)
	svc := &admin.Service{Store: st, Policy: policy.NewEngine(), Domain: domain, DefaultConsentComms: true}
	env := &mailEnv{st: st, svc: svc, smtpAddr: smtpAddr}
	anna := env.user(t, "Anna", "Schmidt", policy.Student)
	ben := env.user(t, "Ben", "Meyer", policy.Student)

	// a transaction refused at DATA (MAIL-SENDER) gives its slot back
	for i := 0; i < 3; i++ {
		if got := env.submit(t, anna, []string{addr(ben)}, "Subject: ohne Absender\r\n\r\nx\r\n"); !strings.HasPrefix(got, "550 5.7.1 [MAIL-SENDER]") {
			t.Fatal(got)
		}
	}
	// RSET after MAIL gives it back too
	c := env.smtpClient(t, anna)
	for i := 0; i < 10; i++ {
		if err := c.Mail(addr(anna)); err != nil {
			t.Fatalf("MAIL %d after RSET: %v", i, err)
		}
		if err := c.Reset(); err != nil {
			t.Fatal(err)
		}
	}
	c.Quit()

	var wg sync.WaitGroup
	var mu sync.Mutex
	replies := map[string]int{}
	start := make(chan struct{})
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := smtp.Dial(smtpAddr)
			if err != nil {
				t.Error(err)
				return
			}
			defer cl.Close()
			if err := cl.Auth(smtp.PlainAuth("", anna, pw, "127.0.0.1")); err != nil {
				t.Error(err)
				return
			}
			<-start
			got := "250"
			if err := cl.Mail(addr(anna)); err != nil {
				got = code(err)
			} else if err := cl.Rcpt(addr(ben)); err != nil {
				got = code(err)
			} else if w, err := cl.Data(); err != nil {
				got = code(err)
			} else {
				fmt.Fprintf(w, "From: %s\r\nSubject: parallel\r\n\r\nx\r\n", addr(anna))
				if err := w.Close(); err != nil {
					got = code(err)
				}
			}
			mu.Lock()
			replies[got[:3]]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if replies["250"] != 7 || replies["550"] != 23 {
		t.Fatalf("replies %v, want 7 × 250 and 23 × 550", replies)
	}
	if n := env.inboxCount(t, ben); n != 7 {
		t.Fatalf("%d delivered, want 7", n)
	}
	stop()

	st, smtpAddr, stop = smtpOn(t, dir, lim)
	defer stop()
	env = &mailEnv{st: st, smtpAddr: smtpAddr}
	c = env.smtpClient(t, anna)
	if err := c.Mail(addr(anna)); !strings.HasPrefix(code(err), "550 5.7.1 [MAIL-MASS]") {
		t.Fatalf("after a restart: %v", code(err))
	}
}

// An account deleted between RCPT and DATA gets nothing (no fresh
// mailboxes); the others get the message and the sender is told.
func TestSMTPRecipientDeletedBeforeDATA(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student)
	ben := e.user(t, "Ben", "Meyer", policy.Student)
	cem := e.user(t, "Cem", "Yilmaz", policy.Student)
	send := func(rcpts []string, deleteBeforeDATA string) string {
		return sendDeleting(t, e, anna, rcpts, deleteBeforeDATA)
	}
	if got := send([]string{ben, cem}, cem); !strings.HasPrefix(got, "250") || !strings.Contains(got, cem) {
		t.Errorf("one of two deleted: %s", got)
	}
	// The 250 took responsibility for cem too: anna has a delivery
	// report (RFC 3464) in her INBOX.
	if n := e.inboxCount(t, anna); n != 1 {
		t.Fatalf("anna has %d messages, want the delivery report", n)
	}
	checkDSN(t, e.lastMessage(t, anna), addr(anna), addr(cem), addr(ben))
	if n := e.inboxCount(t, ben); n != 1 {
		t.Errorf("ben got %d", n)
	}
	if _, err := e.st.MailboxByName(cem, store.Inbox); err == nil {
		t.Error("the deleted account got a fresh INBOX")
	}
	if got := send([]string{ben}, ben); !strings.HasPrefix(got, "550 5.1.1") || !strings.Contains(got, ben) {
		t.Errorf("the only recipient deleted: %s", got)
	}
	// A 550 leaves the message with the sender's client: no report.
	if n := e.inboxCount(t, anna); n != 1 {
		t.Errorf("anna has %d messages after a 550, want only the first report", n)
	}
	if _, err := e.st.MailboxByName(ben, store.Inbox); err == nil {
		t.Error("the deleted account kept or got an INBOX")
	}
}

// A member of a group address deleted between RCPT and DATA: the group was
// delivered as expanded, so the sender gets a plain 250 and no report, and
// neither names the member (she would learn who is in the group).
func TestSMTPGroupMemberDeletedBeforeDATA(t *testing.T) {
	e := startMail(t, mailOpts{})
	lara := e.user(t, "Lara", "Lehrer", policy.Teacher)
	ben := e.user(t, "Ben", "Meyer", policy.Student, "7b")
	dina := e.user(t, "Dina", "Kaya", policy.Student, "7b")
	if _, err := e.st.AddToGroup("7b", store.AsTeacher, lara); err != nil {
		t.Fatal(err)
	}
	before := e.inboxCount(t, lara)
	if got := sendDeleting(t, e, lara, []string{"7b"}, dina); !strings.HasPrefix(got, "250") || strings.Contains(got, dina) {
		t.Errorf("a group member deleted: %s", got)
	}
	if n := e.inboxCount(t, ben); n != 1 {
		t.Errorf("ben got %d, want the group mail", n)
	}
	// lara teaches 7b, so the group mail reaches her too; a report would
	// be stored after it, before the 250.
	if n := e.inboxCount(t, lara); n != before+1 {
		t.Errorf("lara has %d messages, want %d (the group mail, no report)", n, before+1)
	}
	if raw := e.lastMessage(t, lara); strings.Contains(raw, "multipart/report") || strings.Contains(raw, dina) {
		t.Fatalf("lara got a delivery report about a group member:\n%s", raw)
	}
}

// sendDeleting sends a short mail from sender to rcpts and deletes the
// account deleteBeforeDATA between RCPT and DATA; it returns the reply to
// DATA ("250 text" or the error's code).
func sendDeleting(t *testing.T, e *mailEnv, sender string, rcpts []string, deleteBeforeDATA string) string {
	t.Helper()
	c := e.smtpClient(t, sender)
	if err := c.Mail(addr(sender)); err != nil {
		t.Fatal(err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(addr(r)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.DeleteUser("test", deleteBeforeDATA); err != nil {
		t.Fatal(err)
	}
	// net/smtp drops the text of a 250: read the reply itself
	id, err := c.Text.Cmd("DATA")
	if err != nil {
		t.Fatal(err)
	}
	c.Text.StartResponse(id)
	if _, _, err := c.Text.ReadResponse(354); err != nil {
		t.Fatal(err)
	}
	c.Text.EndResponse(id)
	w := c.Text.DotWriter()
	fmt.Fprintf(w, "From: %s\r\nSubject: x\r\n\r\ny\r\n", addr(sender))
	w.Close()
	n, text, err := c.Text.ReadResponse(250)
	if err != nil {
		return code(err)
	}
	return fmt.Sprint(n, " ", text)
}

// checkDSN checks a delivery report to sender about failed (and not
// about delivered): multipart/report with a German text, the status of
// the failed recipient and the original header, not its body.
func checkDSN(t *testing.T, raw, sender, failed, delivered string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if to := m.Header.Get("To"); to != sender {
		t.Errorf("report to %q", to)
	}
	if subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); !strings.HasPrefix(subj, "Nicht zugestellt: x") {
		t.Errorf("report subject %q", subj)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || params["report-type"] != "delivery-status" {
		t.Fatalf("report type %q %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // quoted-printable is undone by NextPart
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		text := string(b)
		switch ct {
		case "text/plain":
			if !strings.Contains(text, "nicht zugestellt werden") || !strings.Contains(text, failed) || strings.Contains(text, delivered) {
				t.Errorf("report text: %q", text)
			}
		case "message/delivery-status":
			for _, f := range []string{"Reporting-MTA: dns; ", "Final-Recipient: rfc822; " + failed, "Action: failed", "Status: 5.1.1"} {
				if !strings.Contains(text, f) {
					t.Errorf("delivery-status lacks %q: %q", f, text)
				}
			}
			if strings.Contains(text, delivered) {
				t.Errorf("delivery-status names the delivered recipient: %q", text)
			}
		case "text/rfc822-headers":
			if !strings.Contains(text, "Subject: x\r\n") || strings.Contains(text, "\r\n\r\ny") {
				t.Errorf("original header: %q", text)
			}
		}
	}
	if strings.Join(types, " ") != "text/plain message/delivery-status text/rfc822-headers" {
		t.Errorf("report parts %q", types)
	}
}

// SIZE-20MB is one rule: a sender's exception does not carry a 21 MiB
// message to recipients without their own, whether the client announced
// SIZE= (refused at RCPT, per address; a group when any member lacks one)
// or not (refused at the end of DATA).
func TestSMTPSizePerRecipient(t *testing.T) {
	e := startMail(t, mailOpts{})
	anna := e.user(t, "Anna", "Schmidt", policy.Student, "5a")
	ben := e.user(t, "Ben", "Meyer", policy.Student, "5a")
	dora := e.user(t, "Dora", "Dorn", policy.Student, "5b")
	until := time.Now().Add(time.Hour)
	for _, n := range []string{anna, dora} {
		if err := e.st.AddException(store.Exception{Account: n, Bytes: 25 << 20, Until: until, Reason: "Projekt"}); err != nil {
			t.Fatal(err)
		}
	}
	big := "From: " + addr(anna) + "\r\nSubject: gross\r\n\r\n" + strings.Repeat(strings.Repeat("z", 98)+"\r\n", 21<<20/100)

	// announced: per RCPT
	c := e.smtpClient(t, anna)
	if err := c.Text.PrintfLine("MAIL FROM:<%s> SIZE=%d", addr(anna), len(big)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Text.ReadResponse(250); err != nil {
		t.Fatal(err)
	}
	for rcpt, want := range map[string]string{
		addr(ben):      "552 5.3.4 [SIZE-20MB]",
		"5a@" + domain: "552 5.3.4 [SIZE-20MB]", // ben is a member
		addr(dora):     "ok",
	} {
		if err := c.Rcpt(rcpt); !strings.HasPrefix(code(err), want) {
			t.Errorf("RCPT %s with SIZE=: %s, want %s", rcpt, code(err), want)
		}
	}
	c.Quit()

	// not announced: at the end of DATA, nothing delivered to anyone
	if got := e.submit(t, anna, []string{addr(dora), addr(ben)}, big); !strings.HasPrefix(got, "552 5.3.4 [SIZE-20MB]") || !strings.Contains(got, ben) {
		t.Errorf("DATA to ben and dora: %s", got)
	}
	if got := e.submit(t, anna, []string{"5a@" + domain}, big); !strings.HasPrefix(got, "552 5.3.4 [SIZE-20MB]") {
		t.Errorf("DATA to 5a: %s", got)
	}
	for _, n := range []string{anna, ben, dora} {
		if m := e.inboxCount(t, n); m != 0 {
			t.Errorf("%s got %d", n, m)
		}
	}
	if got := e.submit(t, anna, []string{addr(dora)}, big); !strings.HasPrefix(got, "250") {
		t.Errorf("DATA to dora (with her own exception): %s", got)
	}
}
