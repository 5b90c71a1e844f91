package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/store"
)

// TestErasureLeavesNoTrace is the erasure proof on the whole server: a
// pupil uses mail (sends and receives over SMTP and IMAP), files (home and
// a group folder over WebDAV, with a dead property and a lock) and chat
// (group, direct, reports), then `schulhof user delete` erases her while
// the server runs. Afterwards every bucket's keys and values, the raw
// bytes of schulhof.db and every blob file are searched for her account
// name, address, first and last name and the markers in her subjects,
// folder and file names, contents and chat text: nothing is found but the
// names record, the privacy.erase audit entry and the message she sent a
// classmate (his data). The classmate's and the teacher's data are intact
// byte for byte.
func TestErasureLeavesNoTrace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	srv := Start(t, cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server output:\n%s", srv.Output())
		}
	})
	const paulaPW, carlPW, tinaPW = "Kiesel!Bach2026", "Moos!Stein2026", "Feder!Kiel2026"
	ok(t, cfg, "", "user", "add", "--first", "Paulina", "--last", "Quastorf", "--role", "student", "--group", "7b")
	ok(t, cfg, "", "user", "add", "--first", "Carlo", "--last", "Brenner", "--role", "student", "--group", "7b")
	ok(t, cfg, "", "user", "add", "--first", "Tina", "--last", "Lehrwart", "--role", "teacher", "--group", "7b")
	const paula, carl, tina = "paulina.quastorf", "carlo.brenner", "tina.lehrwart"
	ok(t, cfg, paulaPW+"\n", "user", "passwd", paula, "--password-stdin")
	ok(t, cfg, carlPW+"\n", "user", "passwd", carl, "--password-stdin")
	ok(t, cfg, tinaPW+"\n", "user", "passwd", tina, "--password-stdin")

	// Markers only Paulina's own data carries; each must be gone.
	own := map[string]string{
		"subject-own": "XqSUBJOWNq1",  // mail she wrote to herself, in her Sent
		"subject-in":  "XqSUBJINq2",   // mail the teacher sent only to her
		"mailbox":     "XqMBOXq3",     // a folder she made
		"folder":      "XqFOLDERq4",   // a folder in her home
		"file":        "XqFILEq5",     // file names
		"content":     "XqCONTENTq6",  // small file contents (inline)
		"blob":        "XqBLOBq7",     // a large file (blob file)
		"group-file":  "XqGRPFILEq8",  // her upload into the group folder
		"group-body":  "XqGRPBODYq9",  // its content
		"prop":        "XqPROPq10",    // a dead property
		"lock":        "XqLOCKq11",    // a lock owner
		"chat-group":  "XqCHATGRPq12", // what she wrote in the class room
		"chat-direct": "XqCHATDMq13",  // what she wrote to Carlo
		"report":      "XqREPORTq14",  // the reason of a report she filed
		"group-dir":   "XqGRPDIRq15",  // a folder she made in the group folder
		"forum-title": "XqFTITLEq16",  // a forum thread she opened
		"forum-post":  "XqFPOSTq17",   // its text (also in a report's frozen context and the hide notice)
		"forum-rep":   "XqFREPq18",    // the reason of a forum report she filed
	}
	person := []string{paula, "Paulina", "Quastorf", "paulina", "quastorf"}

	// --- mail ---
	smtpAddr, imapAddr := srv.Addrs["submission"], srv.Addrs["imap"]
	send := func(user, pass, to, subject, body string) {
		t.Helper()
		c, err := smtp.Dial(smtpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Hello("client.test"); err != nil {
			t.Fatal(err)
		}
		if err := c.Auth(smtp.PlainAuth("", user, pass, "127.0.0.1")); err != nil {
			t.Fatal(err)
		}
		if err := c.Mail(addr(user)); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt(addr(to)); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(w, msg(addr(user), addr(to), subject, body))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	send(paula, paulaPW, carl, "Hausaufgaben XqTOCARLq0", "Hallo Carlo, hier die Aufgaben.")
	send(tina, tinaPW, paula, "Nachricht "+own["subject-in"], "Nur fuer Paulina.")
	im := eraseIMAP(t, imapAddr, paula, paulaPW)
	if err := im.Create("Projekte "+own["mailbox"], nil).Wait(); err != nil {
		t.Fatal(err)
	}
	app := im.Append("Sent", int64(len(msg(addr(paula), addr(paula), own["subject-own"], "notiz"))), nil)
	io.WriteString(app, msg(addr(paula), addr(paula), own["subject-own"], "notiz"))
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	got, err := im.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true, BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
	if err != nil || len(got) != 1 || !strings.Contains(got[0].Envelope.Subject, own["subject-in"]) {
		t.Fatalf("paulina's inbox: %v %+v", err, got)
	}
	im.Logout().Wait()
	carlMail := eraseInbox(t, imapAddr, carl, carlPW)
	if len(carlMail) != 1 || !bytes.Contains(carlMail[0], []byte("XqTOCARLq0")) {
		t.Fatalf("carlo's inbox before: %q", carlMail)
	}

	// --- files over WebDAV ---
	base := "https://" + srv.Addrs["https"]
	dav := func(user, pass, method, path, body string, hdr map[string]string) string {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/dav"+path, strings.NewReader(body))
		req.SetBasicAuth(user, pass)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := eraseHTTP().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 || strings.Contains(string(answer), "HTTP/1.1 4") {
			t.Fatalf("%s %s as %s: %s %s", method, path, user, resp.Status, answer)
		}
		return string(answer)
	}
	dav(paula, paulaPW, "MKCOL", "/home/"+own["folder"], "", nil)
	for i := range 5 {
		dav(paula, paulaPW, "PUT", fmt.Sprintf("/home/%s/%s-%d.txt", own["folder"], own["file"], i), fmt.Sprintf("%s Nummer %d", own["content"], i), nil)
	}
	big := own["blob"] + strings.Repeat(" Aufsatz", 4000) // > 16 KiB: a blob file
	dav(paula, paulaPW, "PUT", "/home/aufsatz-"+own["file"]+".txt", big, nil)
	dav(paula, paulaPW, "PROPPATCH", "/home/aufsatz-"+own["file"]+".txt",
		`<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:z="urn:x"><d:set><d:prop><z:`+own["prop"]+`>Notiz</z:`+own["prop"]+`></d:prop></d:set></d:propertyupdate>`,
		map[string]string{"Content-Type": "application/xml"})
	dav(paula, paulaPW, "LOCK", "/home/"+own["folder"]+"/"+own["file"]+"-0.txt",
		`<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype><d:owner>`+own["lock"]+`</d:owner></d:lockinfo>`,
		map[string]string{"Content-Type": "application/xml", "Timeout": "Second-3600"})
	dav(paula, paulaPW, "PUT", "/groups/7b/"+own["group-file"]+".txt", own["group-body"]+" Referat", nil)
	tinaSmall := "Arbeitsblatt 7b: Bruchrechnen"
	tinaBig := "Skript " + strings.Repeat("Lehrstoff ", 3000)
	dav(tina, tinaPW, "PUT", "/groups/7b/arbeitsblatt.txt", tinaSmall, nil)
	dav(tina, tinaPW, "PUT", "/groups/7b/skript.txt", tinaBig, nil)
	// A folder she made in the class folder, with the teacher's feedback
	// inside: the feedback stays, the folder's name (hers) goes.
	dav(paula, paulaPW, "MKCOL", "/groups/7b/"+own["group-dir"], "", nil)
	tinaFeedback := "Rueckmeldung zum Referat"
	dav(tina, tinaPW, "PUT", "/groups/7b/"+own["group-dir"]+"/rueckmeldung.txt", tinaFeedback, nil)

	// --- chat ---
	pc := eraseChat(t, base, paula, paulaPW)
	cc := eraseChat(t, base, carl, carlPW)
	groupSeq := pc.post("g:7b", "Hallo Klasse "+own["chat-group"])
	pc.call(map[string]any{"t": "dm", "to": carl})
	dm := store.DirectRoomID(paula, carl)
	pc.post(dm, "Hi Carlo "+own["chat-direct"])
	carlSeq := cc.post(dm, "Carlo antwortet XqCARLDMq0")
	cc.post("g:7b", "Carlo in der Klasse XqCARLGRPq0")
	cc.call(map[string]any{"t": "report", "room": "g:7b", "seq": groupSeq, "text": "bitte pruefen"})
	pc.call(map[string]any{"t": "report", "room": dm, "seq": carlSeq, "text": "Grund " + own["report"]})
	pc.close()
	cc.close()

	// --- forum: her thread in the class forum, Carlo's reply quoting it,
	// his report of it, the teacher hiding it (a notice to her INBOX, an
	// audit record naming her), her report of his reply ---
	pf := newForumWeb(t, base, paula, paulaPW)
	cf := newForumWeb(t, base, carl, carlPW)
	tf := newForumWeb(t, base, tina, tinaPW)
	ftid := pf.thread("g:7b", "Frage "+own["forum-title"], "Mein Beitrag "+own["forum-post"])
	fposts := cf.posts("g:7b", ftid)
	fpid := strconv.FormatUint(uint64(fposts[0]["id"].(float64)), 10)
	fthread := "/forum/g:7b/thema/" + strconv.FormatUint(ftid, 10)
	cf.mustSee(cf.post(fthread+"/antwort", url.Values{"text": {"Carlo im Forum XqCARLFORUMq0"}, "quote": {fpid}}, fthread), "carlo's reply")
	cf.mustSee(cf.post("/forum/g:7b/melden", url.Values{"post": {fpid}, "reason": {"bitte pruefen"}}, fthread), "carlo's report")
	tf.mustSee(tf.post("/forum/g:7b/moderieren", url.Values{"act": {"hide"}, "id": {fpid}, "reason": {"Bitte sachlich"}}, fthread), "tina hides")
	fposts = cf.posts("g:7b", ftid)
	carlReply := strconv.FormatUint(uint64(fposts[1]["id"].(float64)), 10)
	pf.mustSee(pf.post("/forum/g:7b/melden", url.Values{"post": {carlReply}, "reason": {"Grund " + own["forum-rep"]}}, fthread), "paulina's report")

	// Everything is there before the erasure: the scan sees it.
	raw := eraseRaw(t, dir)
	for k, m := range own {
		if !bytes.Contains(raw, []byte(m)) && !eraseInBlobs(t, dir, m) {
			t.Fatalf("marker %s (%s) not stored before the erasure: the scan would prove nothing", k, m)
		}
	}

	// --- the erasure, while the server serves ---
	out := ok(t, cfg, "", "user", "delete", paula)
	for _, want := range []string{"Löschbericht", "E-Mail", "Dateien", "Chat", "Bytes"} {
		if !strings.Contains(out, want) {
			t.Errorf("user delete output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("user delete:\n%s", out)

	// The raw file and the blob files while the server still runs.
	raw = eraseRaw(t, dir)
	for k, m := range own {
		if bytes.Contains(raw, []byte(m)) {
			t.Errorf("marker %s (%s) still in schulhof.db after the erasure", k, m)
		}
		if eraseInBlobs(t, dir, m) {
			t.Errorf("marker %s (%s) still in a blob file after the erasure", k, m)
		}
	}
	// Others' data, byte for byte.
	if after := eraseInbox(t, imapAddr, carl, carlPW); len(after) != 1 || !bytes.Equal(after[0], carlMail[0]) {
		t.Errorf("carlo's copy of paulina's mail changed or went: %q", after)
	}
	for p, want := range map[string]string{"/groups/7b/arbeitsblatt.txt": tinaSmall, "/groups/7b/skript.txt": tinaBig,
		"/groups/7b/" + url.PathEscape("Ordner (gelöscht)") + "/rueckmeldung.txt": tinaFeedback} {
		if got := eraseDAVGet(t, base, tina, tinaPW, p); got != want {
			t.Errorf("teacher's %s changed (%d bytes, want %d)", p, len(got), len(want))
		}
	}
	cc = eraseChat(t, base, carl, carlPW)
	hist := cc.call(map[string]any{"t": "hist", "room": "g:7b"})
	var texts []string
	for _, m := range hist["msgs"].([]any) {
		mm := m.(map[string]any)
		texts = append(texts, fmt.Sprint(mm["author"], ":", mm["text"], ":", mm["deleted"]))
	}
	if len(texts) != 2 || texts[0] != ":<nil>:true" || !strings.HasPrefix(texts[1], carl+":Carlo in der Klasse") {
		t.Errorf("class room after the erasure (a tombstone, then carlo's message): %q", texts)
	}
	cc.close()
	// The forum thread keeps its shape: her post a tombstone without
	// name, Carlo's reply as it was.
	fposts = cf.posts("g:7b", ftid)
	if len(fposts) != 2 || fposts[0]["author"] != "" || fposts[0]["text"] != nil || fposts[0]["deleted"] != true ||
		fposts[1]["author"] != carl || fposts[1]["text"] != "Carlo im Forum XqCARLFORUMq0" {
		t.Errorf("forum thread after the erasure: %v", fposts)
	}
	srv.Stop()

	// Every bucket's keys and values, and the raw file against them.
	st, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	needles := append(append([]string{}, person...), "XqTOCARLq0")
	for _, m := range own {
		needles = append(needles, m)
	}
	found, count, err := st.FindBytes(needles...)
	if err != nil {
		t.Fatal(err)
	}
	carlHashes := map[string]bool{}
	for _, f := range found {
		if f.Needle == "XqTOCARLq0" && (f.Bucket == "fileinline" || f.Bucket == "mailmeta") {
			carlHashes[string(f.Key)] = true
		}
	}
	for _, f := range found {
		switch {
		case f.Bucket == "names" && f.InKey && string(f.Key) == paula:
			// the name is never given again
		case f.Bucket == "audit" && isEraseRecord(f.Value):
			// the erasure's own record
		case (f.Bucket == "fileinline" || f.Bucket == "mailmeta") && carlHashes[string(f.Key)]:
			// the message she sent Carlo: his data
		case f.Bucket == "mailsearch" && carlHashes[string(f.Key)]:
			// the header index of that message (keyed by its content hash)
		default:
			t.Errorf("found %q in bucket %s, key %q (in key: %v)", f.Needle, f.Bucket, f.Key, f.InKey)
		}
	}
	if len(carlHashes) == 0 {
		t.Error("carlo's message is not where the scan expects it: the allowances are wrong")
	}
	// Every occurrence in the raw file must be a copy of an allowed
	// record (bbolt may keep old copies of live pages in its free pages;
	// a copy of something allowed is allowed, anything else is not).
	var allowed [][]byte
	for _, f := range found {
		switch {
		case f.Bucket == "names" && f.InKey:
			allowed = append(allowed, append(append([]byte{}, f.Key...), f.Value...))
		case f.Bucket == "audit" && isEraseRecord(f.Value), carlHashes[string(f.Key)] && !f.InKey:
			allowed = append(allowed, f.Value)
		}
	}
	raw = eraseRaw(t, dir)
	for _, n := range needles {
		for i := 0; ; {
			k := bytes.Index(raw[i:], []byte(n))
			if k < 0 {
				break
			}
			at := i + k
			if !copyOfAllowed(raw, at, []byte(n), allowed) {
				lo, hi := max(at-60, 0), min(at+len(n)+60, len(raw))
				t.Errorf("%q at offset %d of schulhof.db is no copy of an allowed record: %q", n, at, raw[lo:hi])
			}
			i = at + len(n)
		}
		if eraseInBlobs(t, dir, n) && n != "XqTOCARLq0" {
			t.Errorf("%q in a blob file", n)
		}
	}
	t.Logf("live occurrences %v", count)
}

// copyOfAllowed reports whether the needle at raw[at:] lies inside a whole
// copy of one of the allowed records.
func copyOfAllowed(raw []byte, at int, needle []byte, allowed [][]byte) bool {
	for _, a := range allowed {
		for j := 0; ; {
			k := bytes.Index(a[j:], needle)
			if k < 0 {
				break
			}
			start := at - (j + k)
			if start >= 0 && start+len(a) <= len(raw) && bytes.Equal(raw[start:start+len(a)], a) {
				return true
			}
			j += k + 1
		}
	}
	return false
}

// isEraseRecord reads only the action of a stored audit entry (the rest
// of its stored form is the audit log's business).
func isEraseRecord(v []byte) bool {
	var rec struct {
		Action string `json:"action"`
	}
	return json.Unmarshal(v, &rec) == nil && rec.Action == store.ActionErase
}

// eraseRaw is the database file and its write-ahead log (which holds
// copies of earlier commits' pages), as raw bytes.
func eraseRaw(t *testing.T, dir string) []byte {
	t.Helper()
	var raw []byte
	for _, name := range []string{"schulhof.db", "schulhof.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	return raw
}

func eraseInBlobs(t *testing.T, dir, needle string) bool {
	t.Helper()
	hit := false
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		hit = hit || bytes.Contains(b, []byte(needle))
		return nil
	})
	return hit
}

func eraseHTTP() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

func eraseDAVGet(t *testing.T, base, user, pass, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/dav"+path, nil)
	req.SetBasicAuth(user, pass)
	resp, err := eraseHTTP().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func eraseIMAP(t *testing.T, addr, user, pass string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("imap login %s: %v", user, err)
	}
	return c
}

// eraseInbox returns the raw messages of an INBOX.
func eraseInbox(t *testing.T, addr, user, pass string) [][]byte {
	t.Helper()
	c := eraseIMAP(t, addr, user, pass)
	defer func() { c.Logout().Wait() }()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("select as %s: %v", user, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatalf("fetch as %s: %v", user, err)
	}
	var out [][]byte
	for _, m := range msgs {
		for _, b := range m.BodySection {
			out = append(out, b.Bytes)
		}
	}
	return out
}

// eraseChatConn is a logged-in browser's chat connection.
type eraseChatConn struct {
	t   *testing.T
	c   *websocket.Conn
	ref int
}

var eraseCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func eraseChat(t *testing.T, base, user, pass string) *eraseChatConn {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := eraseHTTP()
	hc.Jar = jar
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := eraseCSRF.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no login form: %s", page)
	}
	resp, err = hc.PostForm(base+"/anmelden", url.Values{"csrf": {string(m[1])}, "account": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %s", user, resp.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(base, "https", "wss", 1)+"/chat/ws",
		&websocket.DialOptions{HTTPClient: hc, HTTPHeader: http.Header{"Origin": {base}}})
	if err != nil {
		t.Fatalf("chat %s: %v", user, err)
	}
	return &eraseChatConn{t: t, c: c}
}

// call sends a frame and waits for the answer carrying its ref.
func (c *eraseChatConn) call(frame map[string]any) map[string]any {
	c.t.Helper()
	c.ref++
	ref := fmt.Sprint(c.ref)
	frame["ref"] = ref
	raw, _ := json.Marshal(frame)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageText, raw); err != nil {
		c.t.Fatal(err)
	}
	for {
		_, data, err := c.c.Read(ctx)
		if err != nil {
			c.t.Fatalf("waiting for the answer to %s: %v", raw, err)
		}
		var items []map[string]any
		var m map[string]any
		json.Unmarshal(data, &m)
		if m["t"] == "batch" {
			for _, it := range m["items"].([]any) {
				items = append(items, it.(map[string]any))
			}
		} else {
			items = append(items, m)
		}
		for _, it := range items {
			if it["ref"] == ref {
				if it["t"] == "err" {
					c.t.Fatalf("%s refused: %v", raw, it)
				}
				return it
			}
		}
	}
}

func (c *eraseChatConn) post(room, text string) uint64 {
	c.t.Helper()
	a := c.call(map[string]any{"t": "send", "room": room, "text": text})
	seq, _ := a["seq"].(float64)
	if seq == 0 {
		c.t.Fatalf("send to %s: %v", room, a)
	}
	return uint64(seq)
}

func (c *eraseChatConn) close() { c.c.Close(websocket.StatusNormalClosure, "") }
