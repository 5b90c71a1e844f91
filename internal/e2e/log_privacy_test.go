package e2e

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/smtp"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// logLines are the server's JSON log lines (stderr; the start-up lines on
// stdout are not JSON and are skipped).
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	return lines
}

// TestLogsCarrySessionIDNeverSecrets runs SMTP, IMAP and WebDAV sessions
// with a known password, a known wrong password and a known message body
// and file content, with `serve --log-format json`; the captured log must
// contain none of them (nor the base64 of AUTH PLAIN), and every line of
// one SMTP or IMAP session carries that session's ID.
func TestLogsCarrySessionIDNeverSecrets(t *testing.T) {
	const (
		pass     = "Geheim#Passwort-4711"
		wrong    = "Falsch#Geheim-9999"
		body     = "Inhalt-Vertraulich-0815 die Klassenarbeit ist am Freitag"
		subject  = "Betreff-Vertraulich-77"
		fileText = "Datei-Inhalt-Vertraulich-4242"
	)
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	if r := CLI(t, cfg, "", "serve", "--log-format", "xml"); r.Code != 2 || !strings.Contains(r.Stderr, "log-format") {
		t.Fatalf("serve --log-format xml: %+v", r)
	}
	srv := Start(t, cfg, "--log-format", "json")
	addUser(t, cfg, "Lea", "Licht", pass)
	addUser(t, cfg, "Ben", "Berg", pass)

	// One SMTP session: login, a refused recipient, a delivered message.
	c, err := smtp.Dial(srv.Addrs["submission"])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "lea.licht", pass, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("lea.licht@schule.test"); err != nil {
		t.Fatal(err)
	}
	if got := code(c.Rcpt("fremd@example.org")); !strings.HasPrefix(got, "550 5.7.1 [MAIL-INTERNAL]") {
		t.Fatalf("external RCPT: %s", got)
	}
	if err := c.Rcpt("ben.berg@schule.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, msg("lea.licht@schule.test", "ben.berg@schule.test", subject, body))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()

	// IMAP: a wrong password, then the right one and the body fetched.
	ic, err := imapclient.DialInsecure(srv.Addrs["imap"], nil)
	if err != nil {
		t.Fatal(err)
	}
	var ie *imap.Error
	if err := ic.Login("ben.berg", wrong).Wait(); !errors.As(err, &ie) {
		t.Fatalf("wrong password: %v", err)
	}
	ic.Close()
	ic, err = imapclient.DialInsecure(srv.Addrs["imap"], nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.Login("ben.berg", pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := ic.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	if err != nil || len(msgs) != 1 || !strings.Contains(string(msgs[0].FindBodySection(&imap.FetchItemBodySection{})), body) {
		t.Fatalf("fetch: %v %v", msgs, err)
	}
	ic.Logout().Wait()
	ic.Close()

	// WebDAV: a file with known content, with the password in Basic auth.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest("PUT", "https://"+srv.Addrs["https"]+"/dav/home/notiz.txt", strings.NewReader(fileText))
	req.SetBasicAuth("lea.licht", pass)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %s", resp.Status)
	}
	req, _ = http.NewRequest("GET", "https://"+srv.Addrs["https"]+"/dav/home/notiz.txt", nil)
	req.SetBasicAuth("lea.licht", wrong)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("GET with a wrong password: %s", resp.Status)
	}

	srv.Stop() // every log line is written
	out := srv.Output()
	for what, secret := range map[string]string{
		"the password": pass, "the wrong password": wrong, "the message body": "Inhalt-Vertraulich",
		"the subject": subject, "the file content": fileText,
		"AUTH PLAIN": base64.StdEncoding.EncodeToString([]byte("\x00lea.licht\x00" + pass)),
		"Basic auth": base64.StdEncoding.EncodeToString([]byte("lea.licht:" + pass)),
	} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains %s (%q)", what, secret)
		}
	}

	if testing.Verbose() {
		t.Log(out)
	}
	lines := logLines(t, out)
	// The SMTP session: its login, refusal and delivery lines share one ID.
	smtpIDs := map[string]bool{}
	var smtpLines int
	for _, l := range lines {
		isSMTP := l["protocol"] == "smtp" || l["msg"] == "smtp refused" || l["msg"] == "smtp delivered"
		if !isSMTP {
			continue
		}
		smtpLines++
		id, _ := l["session"].(string)
		if id == "" {
			t.Errorf("SMTP line without a session ID: %v", l)
		}
		smtpIDs[id] = true
	}
	if smtpLines < 3 || len(smtpIDs) != 1 {
		t.Errorf("SMTP session: %d lines with IDs %v; want login, refusal and delivery under one ID", smtpLines, smtpIDs)
	}
	// Two IMAP connections: two logins under two different IDs.
	imapIDs := map[string]bool{}
	for _, l := range lines {
		if l["msg"] == "login" && l["protocol"] == "imap" {
			id, _ := l["session"].(string)
			if id == "" {
				t.Errorf("IMAP login line without a session ID: %v", l)
			}
			imapIDs[id] = true
		}
	}
	if len(imapIDs) != 2 {
		t.Errorf("IMAP logins under IDs %v, want two different ones", imapIDs)
	}
	// The refused WebDAV request (a login line) has its request ID.
	var davLogin bool
	for _, l := range lines {
		if l["msg"] == "login" && l["protocol"] == "dav" && l["ok"] == false {
			davLogin = true
			if id, _ := l["session"].(string); id == "" {
				t.Errorf("WebDAV login line without a request ID: %v", l)
			}
		}
	}
	if !davLogin {
		t.Errorf("no failed WebDAV login in the log:\n%s", out)
	}
}
