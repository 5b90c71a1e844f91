package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"

	"schulhof/internal/admin"
	"schulhof/internal/mailmsg"
	"schulhof/policy"
	"schulhof/store"
)

// The person's content, each piece marked so any leak is found by name.
var secrets = []string{"GEHEIM-BETREFF", "GEHEIM-MAIL", "GEHEIM-CHAT-DM", "GEHEIM-CHAT-5A", "GEHEIM-DATEI", "10.99.88.77"}

func leaked(s string) string {
	for _, x := range secrets {
		if strings.Contains(s, x) {
			return x
		}
	}
	return ""
}

// TestAdminsCannotReadContent: an admin without the auditor role tries
// every way in to another person's mail, chat, files and login log: every
// CLI command through the admin socket (with the admin's own password as
// "auditor" too), IMAP (other users' folders, SASL authorization
// identity), WebDAV, every portal route and the chat socket. Nothing
// shows any piece of the content. (Reading a reported chat message is
// allowed, CHAT-READ-REPORTED; no report exists here.)
func TestAdminsCannotReadContent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	const adm, max, lisa = "rita.root", "max.mueller", "lisa.meier"

	// The person's data, written before the server holds the store.
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := &admin.Service{Store: st, Domain: domain, DefaultConsentComms: true}
	for _, u := range []admin.NewUser{{First: "Rita", Last: "Root", Role: policy.Admin}, {First: "Max", Last: "Müller", Role: policy.Student, Groups: []string{"5a"}},
		{First: "Lisa", Last: "Meier", Role: policy.Student, Groups: []string{"5a"}}} {
		u.Password = pw
		c, err := svc.AddUser("test", u)
		if err != nil {
			t.Fatal(err)
		}
		st.UpdateAccount(c.Account.Name, func(a *store.Account) error { a.MustChange = false; return nil })
	}
	raw := []byte(msg(addr(lisa), addr(max), "GEHEIM-BETREFF", "GEHEIM-MAIL im Text"))
	pb, err := st.WriteBlob(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := mailmsg.Parse(bytes.NewReader(raw))
	meta, _ := mailmsg.Marshal(sum)
	if _, err := st.Deliver(store.Delivery{NewMessage: store.NewMessage{Blob: pb, Meta: meta}, Recipients: []string{max}}); err != nil {
		t.Fatal(err)
	}
	pb.Release()
	dm := store.DirectRoomID(max, lisa)
	st.OpenDirectRoom(dm)
	st.PostMessage(dm, lisa, "GEHEIM-CHAT-DM", time.Now(), nil)
	st.PostMessage(store.GroupRoomID("5a"), max, "GEHEIM-CHAT-5A", time.Now(), nil)
	st.RecordLogin(store.LoginRecord{Time: time.Now(), Account: max, Protocol: "imap", IP: "10.99.88.77", OK: true})
	st.Close()

	srv := Start(t, cfg)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	base := "https://" + srv.Addrs["https"]
	// Max keeps a file at home and one in the class folder.
	for _, p := range []string{"/dav/home/geheim.txt", "/dav/groups/5a/geheim5a.txt"} {
		req, _ := http.NewRequest("PUT", base+p, strings.NewReader("GEHEIM-DATEI"))
		req.SetBasicAuth(max, pw)
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("PUT %s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}

	t.Run("cli", func(t *testing.T) {
		var paths []string
		// `schulhof help` lists every command path in its first 26 columns.
		for _, line := range strings.Split(ok(t, cfg, "", "help"), "\n") {
			if !strings.HasPrefix(line, "  ") || len(line) < 29 {
				continue
			}
			p := strings.TrimSpace(line[2:28])
			if p == "serve" || strings.HasPrefix(p, "bench") {
				continue // no admin verb: serve runs the server, bench drives clients
			}
			paths = append(paths, p)
		}
		if len(paths) < 25 {
			t.Fatalf("only %d commands found in help", len(paths))
		}
		variants := [][]string{{}, {max, "--json"}, {"1"}, {"1", "--json"}, {"--all", "--json"},
			{"--user", max, "--since", "30d"}, {"--as", adm, "--password-stdin", "1"}}
		for _, s := range policy.InspectScopes {
			variants = append(variants, []string{"--as", adm, "--password-stdin", "--person", max, "--scope", string(s), "--reason", "x", "--case", "y"})
		}
		runs := 0
		for _, p := range paths {
			if p == "user delete" || p == "import users" || p == "blocklist import" {
				continue // destroys or reads local files; shows no content either way
			}
			for _, v := range variants {
				r := CLI(t, cfg, pw+"\n", append(strings.Fields(p), v...)...)
				runs++
				if x := leaked(r.Stdout + r.Stderr); x != "" {
					t.Errorf("schulhof %s %s showed %s to the admin:\n%s%s", p, strings.Join(v, " "), x, r.Stdout, r.Stderr)
				}
			}
		}
		t.Logf("%d commands, %d runs through the admin socket", len(paths), runs)
		// The runs reached the data: the admin does see the account.
		if out := ok(t, cfg, "", "user", "show", max, "--json"); !strings.Contains(out, `"name": "max.mueller"`) || !strings.Contains(out, `"last_login_at"`) {
			t.Fatalf("user show did not reach the account:\n%s", out)
		}
	})

	t.Run("imap", func(t *testing.T) {
		c, err := imapclient.DialInsecure(srv.Addrs["imap"], nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(adm, pw).Wait(); err != nil {
			t.Fatal(err)
		}
		list, err := c.List("", "*", nil).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			if strings.Contains(m.Mailbox, max) {
				t.Errorf("admin lists %q", m.Mailbox)
			}
		}
		for _, name := range []string{max + "/INBOX", "Other Users/" + max + "/INBOX", "#shared/" + max, "~" + max + "/INBOX", "../" + max + "/INBOX"} {
			if _, err := c.Select(name, nil).Wait(); err == nil {
				t.Errorf("admin selected %q", name)
			}
		}
		c.Logout()
		// SASL PLAIN with an authorization identity: the admin's password,
		// acting as Max.
		c2, err := imapclient.DialInsecure(srv.Addrs["imap"], nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		if err := c2.Authenticate(sasl.NewPlainClient(max, adm, pw)); err == nil {
			if _, err := c2.Select("INBOX", nil).Wait(); err == nil {
				msgs, _ := c2.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true}).Collect()
				t.Fatalf("admin authenticated as Max through authzid: %+v", msgs)
			}
		}
	})

	t.Run("dav", func(t *testing.T) {
		for _, c := range []struct{ method, path, depth string }{
			{"GET", "/dav/home/geheim.txt", ""}, {"GET", "/dav/groups/5a/geheim5a.txt", ""},
			{"PROPFIND", "/dav/", "infinity"}, {"PROPFIND", "/dav/groups/", "infinity"}, {"PROPFIND", "/dav/home/", "1"},
			{"GET", "/dav/home/../" + max + "/geheim.txt", ""}, {"GET", "/dav/groups/5a/../../home/geheim.txt", ""},
		} {
			req, _ := http.NewRequest(c.method, base+c.path, nil)
			req.SetBasicAuth(adm, pw)
			if c.depth != "" {
				req.Header.Set("Depth", c.depth)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if x := leaked(string(body)); x != "" || strings.Contains(string(body), "geheim") {
				t.Errorf("%s %s: %d shows the person's file:\n%s", c.method, c.path, resp.StatusCode, body)
			}
		}
	})

	t.Run("portal and chat", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		bc := &http.Client{Jar: jar, Transport: hc.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(p string) (int, string) {
			resp, err := bc.Get(base + p)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		_, page := get("/")
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no login form:\n%s", page)
		}
		req, _ := http.NewRequest("POST", base+"/anmelden", strings.NewReader(url.Values{"csrf": {m[1]}, "account": {adm}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := bc.Do(req)
		if err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("admin portal login: %v %v", err, resp)
		}
		resp.Body.Close()
		for _, p := range []string{"/", "/konto", "/adressbuch", "/gruppe/5a", "/chat", "/meldungen", "/meldungen/1",
			"/einsicht", "/einsicht/1", "/dav/home/geheim.txt", "/konto/passwort"} {
			code, body := get(p)
			if x := leaked(body); x != "" {
				t.Errorf("GET %s (%d) shows %s to the admin", p, code, x)
			}
		}
		// The chat socket: history, changes and search of Max's rooms.
		u, _ := url.Parse(base)
		hdr := http.Header{"Origin": {base}}
		for _, c := range jar.Cookies(u) {
			hdr.Add("Cookie", c.String())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, "wss://"+srv.Addrs["https"]+"/chat/ws", &websocket.DialOptions{HTTPHeader: hdr, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		asks := []map[string]any{
			{"t": "hist", "ref": "1", "room": dm}, {"t": "sync", "ref": "2", "room": dm},
			{"t": "hist", "ref": "3", "room": store.GroupRoomID("5a")}, {"t": "sync", "ref": "4", "room": store.GroupRoomID("5a")},
			{"t": "search", "ref": "5", "text": "GEHEIM"}, {"t": "report", "ref": "6", "room": dm, "seq": 1, "text": "x"},
		}
		for _, a := range asks {
			b, _ := json.Marshal(a)
			ws.Write(ctx, websocket.MessageText, b)
		}
		answered := map[string]bool{}
		for len(answered) < len(asks) {
			_, data, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("chat socket: %v (answers to %v)", err, answered)
			}
			if x := leaked(string(data)); x != "" {
				t.Errorf("chat socket showed %s to the admin: %s", x, data)
			}
			for _, ref := range regexp.MustCompile(`"ref":"(\d)"`).FindAllStringSubmatch(string(data), -1) {
				answered[ref[1]] = true
			}
		}
	})
}
