package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/policy"
	"schulhof/store"
)

// The pupils of these tests come from an import with the Einwilligung
// column, as a school would create them.
const consentCSV = "Vorname;Nachname;Klasse;Rolle;Einwilligung;Geburtsdatum\n" +
	"Anna;Alle;5a;S;plattform+kommunikation;03.05.2014\n" +
	"Ben;Dateien;5a;S;plattform;2011-02-14\n" +
	"Cem;Keine;5a;S;keine;01.01.2008\n"

func imapLogin(t *testing.T, addr, user string) (*imapclient.Client, error) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.Login(user, pw).Wait()
}

// TestConsentEnforcedEveryProtocol: without platform consent no login
// anywhere (SMTP AUTH, IMAP LOGIN, WebDAV, portal; chat needs the portal's
// session); without communication consent SMTP, IMAP and chat refuse
// naming CONSENT-COMMS while WebDAV and the portal work; and nobody can
// send such a person mail.
func TestConsentEnforcedEveryProtocol(t *testing.T) {
	e := startAll(t)
	names := e.importUsers(t, consentCSV)
	anna, ben, cem := names[0], names[1], names[2]

	for _, c := range []struct {
		user string
		rule policy.Rule // "" allowed
	}{{anna, ""}, {ben, policy.ConsentComms}, {cem, policy.ConsentPlatform}} {
		// SMTP AUTH
		_, _, err := e.smtpAuth(t, c.user)
		if c.rule == "" && err != nil || c.rule != "" && (err == nil || !refusedWith(err, "535", "5.7.8 ["+string(c.rule)+"]")) {
			t.Errorf("SMTP AUTH %s: %v, want %q", c.user, err, c.rule)
		}
		// IMAP LOGIN
		_, err = imapLogin(t, e.imapAddr, c.user)
		if c.rule == "" && err != nil || c.rule != "" && (err == nil || !strings.Contains(err.Error(), "["+string(c.rule)+"]")) {
			t.Errorf("IMAP LOGIN %s: %v, want %q", c.user, err, c.rule)
		}
		// WebDAV: files need only the platform consent.
		hc := e.httpsClient()
		status, body := e.dav(t, hc, "PROPFIND", "/dav/", c.user, "")
		if c.rule == policy.ConsentPlatform {
			if status != http.StatusForbidden || !strings.Contains(body, "[CONSENT-PLATFORM]") {
				t.Errorf("WebDAV %s: %d %s, want 403 [CONSENT-PLATFORM]", c.user, status, body)
			}
		} else if status != http.StatusMultiStatus {
			t.Errorf("WebDAV %s: %d %s", c.user, status, body)
		}
		// Portal
		status, body = e.portalLogin(t, hc, c.user)
		if c.rule == policy.ConsentPlatform {
			if status != http.StatusForbidden || !strings.Contains(body, "[CONSENT-PLATFORM]") {
				t.Errorf("portal %s: %d, want 403 [CONSENT-PLATFORM]: %s", c.user, status, body)
			}
			if _, resp, err := e.chat(hc); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("chat without a session %s: %v", c.user, err)
			}
			continue
		}
		if status != http.StatusSeeOther {
			t.Fatalf("portal %s: %d %s", c.user, status, body)
		}
		if status, _ := e.get(t, hc, "/konto"); status != http.StatusOK {
			t.Errorf("Mein Konto %s: %d", c.user, status)
		}
		// Chat
		ws, resp, err := e.chat(hc)
		if c.rule == "" {
			if err != nil {
				t.Errorf("chat %s: %v", c.user, err)
			} else {
				ws.CloseNow()
			}
		} else if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("chat %s: %v %v, want 403 [CONSENT-COMMS]", c.user, err, resp)
		}
	}

	// Mail to the pupils without consent is refused at RCPT.
	c, _, err := e.smtpAuth(t, anna)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(addr(anna)); err != nil {
		t.Fatal(err)
	}
	for to, rule := range map[string]string{ben: "[CONSENT-COMMS]", cem: "[CONSENT-PLATFORM]"} {
		if err := c.Rcpt(addr(to)); err == nil || !refusedWith(err, "550", "5.7.1 "+rule) {
			t.Errorf("RCPT %s: %v, want 550 5.7.1 %s", to, err, rule)
		}
	}
	// Through the class address they are left out; Anna gets it.
	if err := c.Rcpt("5a@" + domain); err != nil {
		t.Fatalf("RCPT 5a: %v", err)
	}
	wc, _ := c.Data()
	wc.Write([]byte(msg(addr(anna), "5a@"+domain, "Klassenfahrt", "Hallo")))
	if err := wc.Close(); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]uint32{anna: 1, ben: 0, cem: 0} {
		n := uint32(0)
		if m, err := e.st.MailboxByName(user, store.Inbox); err == nil {
			n = m.Messages
		}
		if n != want {
			t.Errorf("%s has %d messages, want %d", user, n, want)
		}
	}
}

// TestWithdrawCommsClosesMailAndChat: with IMAP IDLE, an SMTP session, a
// chat WebSocket, a portal session and WebDAV open, communication consent
// is withdrawn: IMAP, SMTP and chat end within a second (the test waits on
// each connection's end, not on a clock), new logins are refused with
// CONSENT-COMMS, the mail is erased, and files and the portal go on.
func TestWithdrawCommsClosesMailAndChat(t *testing.T) {
	e := startAll(t)
	names := e.importUsers(t, consentCSV)
	anna := names[0]
	if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", anna, pw, "127.0.0.1"), addr(anna), []string{addr(anna)},
		[]byte(msg(addr(anna), addr(anna), "Notiz", "an mich"))); err != nil {
		t.Fatal(err)
	}
	hc := e.httpsClient()
	if status, body := e.dav(t, hc, "PUT", "/dav/home/Referat.txt", anna, "Mein Referat"); status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", status, body)
	}
	ends := openSessions(t, e, hc, anna)
	start := time.Now()
	w, err := e.svc.WithdrawConsent("office", anna, policy.ScopeComms)
	if err != nil {
		t.Fatal(err)
	}
	for what, at := range ends.wait(t) {
		t.Logf("%s ended %v after the withdrawal began", what, at.Sub(start))
		if at.Sub(start) > time.Second {
			t.Errorf("%s ended %v after the withdrawal, want within a second", what, at.Sub(start))
		}
	}
	if !strings.Contains(ends.wsReason, "[CONSENT-COMMS]") {
		t.Errorf("chat close reason %q, want [CONSENT-COMMS]", ends.wsReason)
	}
	if w.Report == nil || w.Report.Items["mail"] == 0 || w.Report.Items["chat"] == 0 || w.Report.Items["files"] != 0 {
		t.Errorf("erasure report %+v: want mail and chat, no files", w.Report)
	}
	if m, err := e.st.MailboxByName(anna, store.Inbox); err == nil && m.Messages != 0 {
		t.Errorf("%d messages left after the withdrawal", m.Messages)
	}
	if _, _, err := e.smtpAuth(t, anna); err == nil || !strings.Contains(err.Error(), "[CONSENT-COMMS]") {
		t.Errorf("SMTP AUTH after withdrawal: %v", err)
	}
	if _, err := imapLogin(t, e.imapAddr, anna); err == nil || !strings.Contains(err.Error(), "[CONSENT-COMMS]") {
		t.Errorf("IMAP LOGIN after withdrawal: %v", err)
	}
	if _, resp, err := e.chat(hc); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("chat after withdrawal: %v", err)
	}
	// Files and the portal go on, the file is still there.
	if status, body := e.dav(t, hc, "GET", "/dav/home/Referat.txt", anna, ""); status != http.StatusOK || body != "Mein Referat" {
		t.Errorf("file after comms withdrawal: %d %q", status, body)
	}
	if status, body := e.get(t, hc, "/konto"); status != http.StatusOK || !strings.Contains(body, "widerrufen am") {
		t.Errorf("Mein Konto after comms withdrawal: %d", status)
	}
}

// TestWithdrawPlatformEndsEverything: the same open sessions; platform
// consent is withdrawn: every session ends within a second, no protocol
// lets the person in again, and everything is erased (the account too).
func TestWithdrawPlatformEndsEverything(t *testing.T) {
	e := startAll(t)
	names := e.importUsers(t, consentCSV)
	anna := names[0]
	if err := smtp.SendMail(e.smtpAddr, smtp.PlainAuth("", anna, pw, "127.0.0.1"), addr(anna), []string{addr(anna)},
		[]byte(msg(addr(anna), addr(anna), "Notiz", "an mich"))); err != nil {
		t.Fatal(err)
	}
	hc := e.httpsClient()
	if status, _ := e.dav(t, hc, "PUT", "/dav/home/Referat.txt", anna, "Mein Referat"); status != http.StatusCreated {
		t.Fatal("PUT")
	}
	// 20 MiB (the most without an exception): more than the socket
	// buffers hold, so the download is still running at the withdrawal.
	big := strings.Repeat("Film-AG ", 20<<20/8)
	if status, _ := e.dav(t, hc, "PUT", "/dav/home/film.txt", anna, big); status != http.StatusCreated {
		t.Fatal("PUT film")
	}
	req, _ := http.NewRequest("GET", e.url("/dav/home/film.txt"), nil)
	req.SetBasicAuth(anna, pw)
	download, err := e.httpsClient().Do(req)
	if err != nil || download.StatusCode != http.StatusOK {
		t.Fatalf("GET film: %v %v", err, download)
	}
	defer download.Body.Close()
	if _, err := io.ReadFull(download.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	// An upload running at the withdrawal: the body comes from a pipe the
	// test feeds.
	pr, pwr := io.Pipe()
	upReq, _ := http.NewRequest("PUT", e.url("/dav/home/upload.bin"), pr)
	upReq.SetBasicAuth(anna, pw)
	upReq.ContentLength = 10 << 20
	upload := make(chan int, 1)
	go func() {
		resp, err := e.httpsClient().Do(upReq)
		if err != nil {
			upload <- -1
			return
		}
		resp.Body.Close()
		upload <- resp.StatusCode
	}()
	chunk := make([]byte, 64<<10)
	if _, err := pwr.Write(chunk); err != nil {
		t.Fatal(err)
	}
	ends := openSessions(t, e, hc, anna)
	start := time.Now()
	w, err := e.svc.WithdrawConsent("office", anna, policy.ScopePlatform)
	// The upload's client sends on: the server stops reading it.
	go func() {
		for {
			if _, err := pwr.Write(chunk); err != nil {
				return
			}
		}
	}()
	select {
	case code := <-upload:
		t.Logf("upload ended %v after the withdrawal began (status %d)", time.Since(start), code)
		if code == http.StatusCreated || code == http.StatusNoContent {
			t.Errorf("upload completed after the withdrawal: %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Error("upload still running after the withdrawal")
	}
	pwr.CloseWithError(errors.New("test done"))
	// The download's client reads on only now: what it gets is what the
	// buffers held when the server stopped writing.
	davEnd := make(chan time.Time, 1)
	go func() {
		n, err := io.Copy(io.Discard, download.Body)
		if err == nil {
			t.Errorf("download ran to its end (%d more bytes) after the withdrawal", n)
		} else {
			t.Logf("download cut after %d more bytes: %v", n, err)
		}
		davEnd <- time.Now()
	}()
	if err != nil {
		t.Fatal(err)
	}
	for what, at := range ends.wait(t) {
		t.Logf("%s ended %v after the withdrawal began", what, at.Sub(start))
		if at.Sub(start) > time.Second {
			t.Errorf("%s ended %v after the withdrawal, want within a second", what, at.Sub(start))
		}
	}
	if !strings.Contains(ends.wsReason, "[CONSENT-PLATFORM]") {
		t.Errorf("chat close reason %q, want [CONSENT-PLATFORM]", ends.wsReason)
	}
	select {
	case at := <-davEnd:
		t.Logf("WebDAV download ended %v after the withdrawal began", at.Sub(start))
		if at.Sub(start) > time.Second {
			t.Errorf("WebDAV download ended %v after the withdrawal", at.Sub(start))
		}
	case <-time.After(5 * time.Second):
		t.Error("WebDAV download still running")
	}
	if w.Report == nil || w.Report.Items["mail"] == 0 || w.Report.Items["chat"] == 0 || w.Report.Items["files"] == 0 || w.Report.Items["accounts"] != 1 || w.Report.BytesFreed == 0 {
		t.Errorf("erasure report %+v", w.Report)
	}
	if _, err := e.st.Account(anna); err == nil {
		t.Error("account still there")
	}
	if status, _ := e.dav(t, hc, "PROPFIND", "/dav/", anna, ""); status < 400 {
		t.Errorf("WebDAV after withdrawal: %d", status)
	}
	if status, body := e.get(t, hc, "/konto"); status == http.StatusOK {
		t.Errorf("portal session survived: %s", body)
	}
	if status, _ := e.portalLogin(t, e.httpsClient(), anna); status == http.StatusSeeOther {
		t.Error("portal login after withdrawal")
	}
	if _, _, err := e.smtpAuth(t, anna); err == nil {
		t.Error("SMTP AUTH after withdrawal")
	}
	if _, err := imapLogin(t, e.imapAddr, anna); err == nil {
		t.Error("IMAP LOGIN after withdrawal")
	}
}

// openSessions logs user into the portal and opens her chat socket (saying
// something in 5a's room), an IMAP IDLE on INBOX and an authenticated SMTP
// connection, and watches all three for the server's close.
func openSessions(t *testing.T, e *allEnv, hc *http.Client, user string) *ends {
	t.Helper()
	if status, _ := e.portalLogin(t, hc, user); status != http.StatusSeeOther {
		t.Fatal("portal login")
	}
	ws, _, err := e.chat(hc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	chatSay(t, ws, store.GroupRoomID("5a"), "Wer kommt mit zur Klassenfahrt?")
	im, err := imapLogin(t, e.imapAddr, user)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := im.Idle()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idle.Close() })
	_, smtpConn, err := e.smtpAuth(t, user)
	if err != nil {
		t.Fatal(err)
	}
	return watchEnds(t, im, smtpConn, ws)
}

// ends watches IMAP, SMTP and chat connections for the server's close.
type ends struct {
	mu       sync.Mutex
	at       map[string]time.Time
	wsReason string
	wg       sync.WaitGroup
}

func watchEnds(t *testing.T, im *imapclient.Client, smtpConn interface {
	Read([]byte) (int, error)
}, ws *websocket.Conn) *ends {
	e := &ends{at: map[string]time.Time{}}
	mark := func(what string) {
		e.mu.Lock()
		e.at[what] = time.Now()
		e.mu.Unlock()
	}
	e.wg.Add(3)
	go func() {
		defer e.wg.Done()
		select {
		case <-im.Closed():
			mark("IMAP IDLE")
		case <-time.After(5 * time.Second):
		}
	}()
	go func() {
		defer e.wg.Done()
		if c, ok := smtpConn.(interface {
			Read([]byte) (int, error)
			SetReadDeadline(time.Time) error
		}); ok {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 256)
			for {
				if _, err := c.Read(buf); err != nil {
					if !strings.Contains(err.Error(), "timeout") {
						mark("SMTP")
					}
					return
				}
			}
		}
	}()
	go func() {
		defer e.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				if websocket.CloseStatus(err) == websocket.StatusPolicyViolation {
					var ce websocket.CloseError
					if errors.As(err, &ce) {
						e.mu.Lock()
						e.wsReason = ce.Reason
						e.mu.Unlock()
					}
					mark("chat")
				}
				return
			}
		}
	}()
	return e
}

// wait returns when each connection ended; one that did not is an error.
func (e *ends) wait(t *testing.T) map[string]time.Time {
	t.Helper()
	e.wg.Wait()
	for _, what := range []string{"IMAP IDLE", "SMTP", "chat"} {
		if _, ok := e.at[what]; !ok {
			t.Errorf("%s session did not end", what)
		}
	}
	return e.at
}
