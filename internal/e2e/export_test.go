package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/smtp"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"

	"schulhof/store"
)

// TestExportRoundTrip: a pupil's mail (delivered over SMTP, moved into
// folders, one APPENDed with a binary attachment), home files (nested,
// inline and > 1 MiB, put over WebDAV) and chat messages (over the
// portal's WebSocket) come back in the export, over the admin socket, in
// local mode and from the portal button: every .eml parses with
// go-message and equals the message IMAP serves, every file's SHA-256
// matches, the JSON parts parse and hold the consents, and nothing of a
// classmate that was not sent to the pupil is in the zip. Each admin
// export leaves a user.export audit record.
func TestExportRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	srv := Start(t, cfg)
	for _, u := range [][]string{{"Max", "Müller", "student"}, {"Zoë", "Groß", "student"}, {"Eva", "Lang", "teacher"}} {
		ok(t, cfg, "Erst!Passw0rt1\n", "user", "add", "--first", u[0], "--last", u[1], "--role", u[2], "--group", "5a", "--password-stdin")
	}
	const maxN, zoeN, evaN = "max.mueller", "zoe.gross", "eva.lang"
	for _, n := range []string{maxN, zoeN, evaN} {
		ok(t, cfg, pw+"\n", "user", "passwd", n, "--password-stdin")
	}
	subAddr, imapAddr, https := srv.Addrs["submission"], srv.Addrs["imap"], srv.Addrs["https"]
	if subAddr == "" || imapAddr == "" || https == "" {
		t.Fatalf("listeners missing:\n%s", srv.Output())
	}
	base := "https://" + https

	// Mail over SMTP: two to Max (one also to Eva), one only to Eva.
	send := func(from string, to []string, subject, body string) {
		t.Helper()
		var rc []string
		for _, r := range to {
			rc = append(rc, r+"@schule.test")
		}
		m := fmt.Sprintf("From: %s@schule.test\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
			from, strings.Join(rc, ", "), mime.QEncoding.Encode("utf-8", subject), body)
		if err := submit(subAddr, from, rc, m); err != nil {
			t.Fatalf("SMTP %s: %v", subject, err)
		}
	}
	send(zoeN, []string{maxN}, "Hausaufgaben", "Seite 12, Aufgabe 3. Grüße, Zoë")
	send(zoeN, []string{maxN, evaN}, "Ausflug", "Treffpunkt 8 Uhr am Bahnhof")
	send(zoeN, []string{evaN}, "Nur für Frau Lang", "ZOE-TO-EVA-SECRET")

	// IMAP: folders (one with a name Windows refuses), a MOVE, an APPEND
	// with a binary attachment.
	ic, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(maxN, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	const unsafeBox = `Ablage: "wichtig"?`
	for _, mb := range []string{"Schule", "Schule/Mathe", unsafeBox} {
		if err := ic.Create(mb, nil).Wait(); err != nil {
			t.Fatalf("CREATE %s: %v", mb, err)
		}
	}
	if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.Move(imap.SeqSetNum(2), unsafeBox).Wait(); err != nil {
		t.Fatalf("MOVE: %v", err)
	}
	attachment := make([]byte, 300<<10)
	rand.NewChaCha8([32]byte{7}).Read(attachment)
	appended := "From: max.mueller@schule.test\r\nTo: max.mueller@schule.test\r\nSubject: Messwerte\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"grenze\"\r\n\r\n--grenze\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDie Messwerte im Anhang.\r\n" +
		"--grenze\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"werte.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		wrap76(base64.StdEncoding.EncodeToString(attachment)) + "--grenze--\r\n"
	cmd := ic.Append("Schule/Mathe", int64(len(appended)), nil)
	io.WriteString(cmd, appended)
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND: %v", err)
	}

	// Files over WebDAV: nested folders, a small (inline) and a 1.5 MiB
	// file, a name Windows refuses; and a classmate's own file.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: time.Minute}
	dav := func(user, method, p string, body []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/dav"+p, bytes.NewReader(body))
		req.SetBasicAuth(user, pw)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s %s: %s", method, p, resp.Status)
		}
	}
	big := make([]byte, 3<<19)
	rand.NewChaCha8([32]byte{8}).Read(big)
	files := map[string][]byte{ // zip path → content
		"dateien/Projekte/2026/Referat.txt": []byte("Ein kurzes Referat über Bienen."),
		"dateien/Projekte/video.bin":        big,
		"dateien/Notiz_.txt":                []byte("Frage für morgen"),
	}
	dav(maxN, "MKCOL", "/home/Projekte", nil)
	dav(maxN, "MKCOL", "/home/Projekte/2026", nil)
	dav(maxN, "MKCOL", "/home/Leer", nil)
	dav(maxN, "PUT", "/home/Projekte/2026/Referat.txt", files["dateien/Projekte/2026/Referat.txt"])
	dav(maxN, "PUT", "/home/Projekte/video.bin", big)
	dav(maxN, "PUT", "/home/Notiz%3F.txt", files["dateien/Notiz_.txt"])
	dav(zoeN, "PUT", "/home/zoe.txt", []byte("ZOE-PRIVATE-FILE"))
	// The class folder: Max's upload is his, Zoë's is hers.
	dav(maxN, "MKCOL", "/groups/5a/Bio", nil)
	dav(maxN, "PUT", "/groups/5a/Bio/zelle.txt", []byte("Zellkern und Zellwand"))
	dav(zoeN, "PUT", "/groups/5a/Bio/zoe.txt", []byte("ZOE-PRIVATE-FILE in der Gruppe"))
	files["dateien-gruppen/5a/Bio/zelle.txt"] = []byte("Zellkern und Zellwand")

	// Chat over the portal's WebSocket.
	maxWeb, zoeWeb := portalLogin(t, base, maxN), portalLogin(t, base, zoeN)
	chatSend(t, https, maxWeb, "g:5a", "Hallo 5a, hier ist Max")
	chatSend(t, https, zoeWeb, "g:5a", "ZOE-CHAT-SECRET")
	chatSend(t, https, maxWeb, "g:5a", "Bis morgen!")

	// What IMAP serves of Max's mail: folder → message bytes.
	stored := map[string][][]byte{}
	boxes, err := ic.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range boxes {
		sel, err := ic.Select(b.Mailbox, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if sel.NumMessages == 0 {
			continue
		}
		var set imap.SeqSet
		set.AddRange(1, sel.NumMessages)
		msgs, err := ic.Fetch(set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			stored[b.Mailbox] = append(stored[b.Mailbox], m.BodySection[0].Bytes)
		}
	}
	if len(stored["INBOX"]) != 1 || len(stored[unsafeBox]) != 1 || len(stored["Schule/Mathe"]) != 1 {
		t.Fatalf("mail as stored: %d in INBOX, %d in %s, %d in Schule/Mathe", len(stored["INBOX"]), len(stored[unsafeBox]), unsafeBox, len(stored["Schule/Mathe"]))
	}
	zipFolder := map[string]string{"INBOX": "mail/INBOX", unsafeBox: "mail/Ablage_ _wichtig__", "Schule/Mathe": "mail/Schule/Mathe"}

	check := func(how string, z map[string][]byte) {
		t.Helper()
		checkExport(t, how, z, stored, zipFolder, files, attachment, maxN)
	}

	// 1. Over the admin socket while the server runs.
	out := filepath.Join(t.TempDir(), "max-cli.zip")
	res := ok(t, cfg, "", "user", "export", maxN, "--to", out)
	if !strings.Contains(res, "Audit-Log") {
		t.Errorf("export output: %s", res)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", fi, err)
	}
	check("socket", readZip(t, out))
	fails(t, cfg, "", "exists", "user", "export", maxN, "--to", out)
	fails(t, cfg, "", "unknown user", "user", "export", "niemand", "--to", out+"2")
	if _, err := os.Stat(out + "2"); err == nil {
		t.Error("a failed export left a file")
	}

	// 2. The portal button: CSRF-protected, streams the zip.
	if resp := maxWeb.post(t, "/konto/daten", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("export without CSRF token: %s", resp.Status)
	}
	resp := maxWeb.post(t, "/konto/daten", url.Values{"csrf": {maxWeb.csrf(t, "/konto")}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("portal export: %s %v", resp.Status, resp.Header)
	}
	web := filepath.Join(t.TempDir(), "max-web.zip")
	os.WriteFile(web, body, 0o600)
	check("portal", readZip(t, web))
	srv.Stop()

	// 3. Local mode (no server running).
	local := filepath.Join(t.TempDir(), "max-local.zip")
	ok(t, cfg, "", "user", "export", maxN, "--to", local)
	check("local", readZip(t, local))

	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, _ := st.AuditLog(time.Time{})
	u, _ := user.Current()
	var admin, self int
	for _, r := range recs {
		switch {
		case r.Action == "user.export" && r.Target == maxN && strings.Contains(r.Actor, u.Username):
			admin++
		case r.Action == "user.export-self" && r.Target == maxN && r.Actor == maxN:
			self++
		}
	}
	// the refused export of "niemand" leaves none: there was nothing to read
	if admin != 2 || self != 1 {
		t.Fatalf("audit: %d user.export by the CLI user, %d user.export-self; want 2 and 1\n%+v", admin, self, recs)
	}
}

// submit sends one message over SMTP submission (plain on loopback, as
// net/smtp allows for PLAIN there).
func submit(addr, from string, rcpts []string, m string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("export.test"); err != nil {
		return err
	}
	if err := c.Auth(smtp.PlainAuth("", from, pw, "127.0.0.1")); err != nil {
		return err
	}
	if err := c.Mail(from + "@schule.test"); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	io.WriteString(w, m)
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return b.String() + s + "\r\n"
}

func readZip(t *testing.T, p string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for i, f := range zr.File {
		if i == 0 && f.Name != "README.txt" {
			t.Errorf("%s: first entry is %s, not README.txt", p, f.Name)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r) // checks the CRC
		r.Close()
		if err != nil {
			t.Fatalf("%s %s: %v", p, f.Name, err)
		}
		out[f.Name] = b
	}
	return out
}

var emlName = regexp.MustCompile(`^(mail/.+)/\d{6}\.eml$`)

func checkExport(t *testing.T, how string, z map[string][]byte, stored map[string][][]byte, zipFolder map[string]string,
	files map[string][]byte, attachment []byte, account string) {
	t.Helper()
	// Mail: every stored message is an .eml in its folder, byte for byte,
	// and every .eml parses.
	emls := map[string][][]byte{}
	attachments := 0
	for name, b := range z {
		m := emlName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		emls[m[1]] = append(emls[m[1]], b)
		e, err := message.Read(bytes.NewReader(b))
		if err != nil {
			t.Errorf("%s: %s does not parse: %v", how, name, err)
			continue
		}
		if err := e.Walk(func(path []int, part *message.Entity, err error) error {
			if err != nil {
				return err
			}
			if mt, _, _ := part.Header.ContentType(); strings.HasPrefix(mt, "multipart/") {
				return nil // Walk reads its parts
			}
			data, err := io.ReadAll(part.Body)
			if err != nil {
				return err
			}
			if _, p, _ := part.Header.ContentDisposition(); p["filename"] == "werte.bin" {
				attachments++
				if !bytes.Equal(data, attachment) {
					t.Errorf("%s: %s: the attachment differs", how, name)
				}
			}
			return nil
		}); err != nil {
			t.Errorf("%s: %s: %v", how, name, err)
		}
	}
	if attachments != 1 {
		t.Errorf("%s: %d binary attachments decoded, want 1", how, attachments)
	}
	total := 0
	for box, msgs := range stored {
		dir, okd := zipFolder[box]
		if !okd {
			t.Errorf("%s: no zip folder expected for %q", how, box)
			continue
		}
		total += len(msgs)
		for _, m := range msgs {
			found := false
			for _, e := range emls[dir] {
				found = found || bytes.Equal(e, m)
			}
			if !found {
				t.Errorf("%s: a message of %s is not in %s byte for byte", how, box, dir)
			}
		}
	}
	n := 0
	for _, l := range emls {
		n += len(l)
	}
	if n != total {
		t.Errorf("%s: %d .eml files, %d messages stored", how, n, total)
	}
	// Files
	for p, content := range files {
		if sha256.Sum256(z[p]) != sha256.Sum256(content) {
			t.Errorf("%s: %s: SHA-256 differs (%d bytes, want %d)", how, p, len(z[p]), len(content))
		}
	}
	if _, okd := z["dateien/Leer/"]; !okd {
		t.Errorf("%s: the empty folder is missing", how)
	}
	// JSON
	var consents map[string]any
	if err := json.Unmarshal(z["einwilligungen.json"], &consents); err != nil || consents["consent_platform"] != true || consents["consent_comms"] != true {
		t.Errorf("%s: einwilligungen.json: %s (%v)", how, z["einwilligungen.json"], err)
	}
	var konto map[string]any
	if err := json.Unmarshal(z["konto.json"], &konto); err != nil || konto["name"] != account || konto["first"] != "Max" {
		t.Errorf("%s: konto.json: %s (%v)", how, z["konto.json"], err)
	}
	var chat []struct{ Text, Raumname string }
	if err := json.Unmarshal(z["chat.json"], &chat); err != nil || len(chat) != 2 || chat[0].Text != "Hallo 5a, hier ist Max" || chat[0].Raumname != "Gruppe 5a" {
		t.Errorf("%s: chat.json: %s (%v)", how, z["chat.json"], err)
	}
	var logins []store.LoginRecord
	if err := json.Unmarshal(z["anmeldeprotokoll.json"], &logins); err != nil || len(logins) == 0 {
		t.Errorf("%s: anmeldeprotokoll.json: %s (%v)", how, z["anmeldeprotokoll.json"], err)
	}
	for _, l := range logins {
		if l.Account != account {
			t.Errorf("%s: login record of %s in the export", how, l.Account)
		}
	}
	// The admin export's own audit record commits before the export
	// reads: every export (the first too) shows it to the person.
	var admin []store.AuditRecord
	if err := json.Unmarshal(z["verwaltung.json"], &admin); err != nil {
		t.Errorf("%s: verwaltung.json: %v", how, err)
	}
	exported := false
	for _, r := range admin {
		exported = exported || r.Action == "user.export"
		if r.Target != account {
			t.Errorf("%s: audit entry about %q in the export", how, r.Target)
		}
	}
	if !exported {
		t.Errorf("%s: verwaltung.json lacks the user.export record: %s", how, z["verwaltung.json"])
	}
	for name := range z {
		if strings.HasPrefix(name, "dateien-gruppen/") && !strings.HasSuffix(name, "/") && files[name] == nil {
			t.Errorf("%s: %s is not the person's upload", how, name)
		}
	}
	for _, p := range []string{"gruppen.json", "verwaltung.json", "freiwillige-angaben.json", "sitzungen.json", "ausnahmen.json", "chat-meldungen.json"} {
		if !json.Valid(z[p]) {
			t.Errorf("%s: %s is not JSON: %q", how, p, z[p])
		}
	}
	// Nothing of others that was not sent to the person.
	for name, b := range z {
		for _, secret := range []string{"ZOE-TO-EVA-SECRET", "ZOE-PRIVATE-FILE", "ZOE-CHAT-SECRET", "argon2"} {
			if bytes.Contains(b, []byte(secret)) || strings.Contains(name, secret) {
				t.Errorf("%s: %s holds %s", how, name, secret)
			}
		}
	}
}

// webUser is a logged-in portal session over HTTPS (cookie jar).
type webUser struct {
	c    *http.Client
	base string
}

var exportCSRFField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (u *webUser) csrf(t *testing.T, p string) string {
	t.Helper()
	resp, err := u.c.Get(u.base + p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := exportCSRFField.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no CSRF token on %s (%s)", p, resp.Status)
	}
	return string(m[1])
}

func (u *webUser) post(t *testing.T, p string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", u.base+p, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", u.base)
	resp, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func portalLogin(t *testing.T, base, name string) *webUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u := &webUser{base: base, c: &http.Client{Jar: jar, Timeout: time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	resp := u.post(t, "/anmelden", url.Values{"csrf": {u.csrf(t, "/")}, "account": {name}, "password": {pw}})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte("/konto")) {
		t.Fatalf("portal login %s: %s\n%s", name, resp.Status, b)
	}
	return u
}

// chatSend posts one message over the chat WebSocket and waits for its ack.
func chatSend(t *testing.T, host string, u *webUser, room, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{"Origin": {u.base}}
	c, _, err := websocket.Dial(ctx, "wss://"+host+"/chat/ws", &websocket.DialOptions{HTTPClient: u.c, HTTPHeader: h})
	if err != nil {
		t.Fatalf("chat dial: %v", err)
	}
	defer c.CloseNow()
	raw, _ := json.Marshal(map[string]any{"t": "send", "room": room, "text": text, "ref": "1"})
	if err := c.Write(ctx, websocket.MessageText, raw); err != nil {
		t.Fatal(err)
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("chat: no ack for %q: %v", text, err)
		}
		var m struct {
			T     string           `json:"t"`
			Items []map[string]any `json:"items"`
		}
		json.Unmarshal(data, &m)
		frames := m.Items
		if m.T != "batch" {
			var one map[string]any
			json.Unmarshal(data, &one)
			frames = []map[string]any{one}
		}
		for _, f := range frames {
			switch f["t"] {
			case "ack":
				return
			case "err":
				t.Fatalf("chat %q refused: %v", text, f)
			}
		}
	}
}
