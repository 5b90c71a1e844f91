package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/smtp"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"schulhof/imapd"
	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/internal/tlsutil"
	"schulhof/policy"
	"schulhof/smtpd"
	"schulhof/store"
	"schulhof/web"
)

// allEnv is every daemon of `schulhof serve` on one store, on loopback:
// SMTP and IMAP (plain: loopback may log in without TLS) and the HTTPS
// listener with WebDAV, the portal and chat. Tests reach the admin
// service directly, as the admin socket does.
type allEnv struct {
	st       *store.Store
	svc      *admin.Service
	smtpAddr string
	imapAddr string
	https    string // host:port
}

func startAll(t *testing.T) *allEnv {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.Default()
	}
	eng := policy.NewEngine()
	v := auth.New(st, auth.Options{Domain: domain, CacheTTL: time.Minute, Logger: log})
	sm := smtpd.New(smtpd.Options{Store: st, Auth: v, Policy: eng, Domain: domain, Hostname: "mail." + domain, Logger: log})
	im := imapd.New(imapd.Options{Store: st, Auth: v, Policy: eng, Logger: log})
	cert, _, err := tlsutil.Load("", "", t.TempDir(), domain)
	if err != nil {
		t.Fatal(err)
	}
	w := web.New(web.Options{Store: st, Auth: v, Policy: eng, Logger: log, TLS: cert, Portal: &web.PortalOptions{Domain: domain}})
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	sl, il, hl := listen(), listen(), listen()
	go sm.Serve(sl)
	go im.Serve(il)
	go w.Serve(hl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		w.Shutdown(ctx)
		sm.Close()
		im.Close()
		v.Close()
		if errs := st.Check(); len(errs) > 0 {
			t.Errorf("bbolt check: %v", errs)
		}
		st.Close()
	})
	return &allEnv{st: st, svc: &admin.Service{Store: st, Policy: eng, Auth: v, Domain: domain, DefaultConsentComms: true},
		smtpAddr: sl.Addr().String(), imapAddr: il.Addr().String(), https: hl.Addr().String()}
}

// importUsers imports a CSV (with the Einwilligung column) and gives
// every new account the test password, ready to log in.
func (e *allEnv) importUsers(t *testing.T, csv string) []string {
	t.Helper()
	res, err := e.svc.ImportUsers("office", []byte(csv), admin.ImportOptions{ConsentForm: "2026-08"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range res.Created {
		if err := e.svc.SetPassword("office", c.Account.Name, pw); err != nil {
			t.Fatal(err)
		}
		names = append(names, c.Account.Name)
	}
	return names
}

// smtpSession is an authenticated SMTP session whose connection the test
// can watch: the server closing it shows as EOF.
func (e *allEnv) smtpAuth(t *testing.T, user string) (*smtp.Client, net.Conn, error) {
	t.Helper()
	conn, err := net.Dial("tcp", e.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := smtp.NewClient(conn, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c, conn, c.Auth(smtp.PlainAuth("", user, pw, "127.0.0.1"))
}

// httpsClient is a browser-like client: a cookie jar, the test's
// self-signed certificate accepted.
func (e *allEnv) httpsClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *allEnv) url(path string) string { return "https://" + e.https + path }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// portalLogin logs in through the login form and returns the response
// status and body.
func (e *allEnv) portalLogin(t *testing.T, c *http.Client, user string) (int, string) {
	t.Helper()
	resp, err := c.Get(e.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no login form: %s", body)
	}
	form := url.Values{"csrf": {string(m[1])}, "account": {user}, "password": {pw}}
	req, _ := http.NewRequest("POST", e.url("/anmelden"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://"+e.https)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ = io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// get fetches a portal page with the client's session.
func (e *allEnv) get(t *testing.T, c *http.Client, path string) (int, string) {
	t.Helper()
	resp, err := c.Get(e.url(path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// dav sends one WebDAV request with Basic credentials.
func (e *allEnv) dav(t *testing.T, c *http.Client, method, path, user, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, e.url(path), strings.NewReader(body))
	req.SetBasicAuth(user, pw)
	if method == "PROPFIND" {
		req.Header.Set("Depth", "1")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// chat opens the chat WebSocket with the client's portal session.
func (e *allEnv) chat(c *http.Client) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := http.Header{}
	h.Set("Origin", "https://"+e.https)
	return websocket.Dial(ctx, "wss://"+e.https+"/chat/ws", &websocket.DialOptions{HTTPClient: c, HTTPHeader: h})
}

// chatSay posts a message in a room and waits for its ack.
func chatSay(t *testing.T, ws *websocket.Conn, room, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, _ := json.Marshal(map[string]string{"t": "send", "ref": "say", "room": room, "text": text})
	if err := ws.Write(ctx, websocket.MessageText, raw); err != nil {
		t.Fatal(err)
	}
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for the ack: %v", err)
		}
		var f struct {
			T, Ref, Rule, Reason string
			Items                []struct{ T, Ref, Rule, Reason string }
		}
		json.Unmarshal(data, &f)
		frames := append([]struct{ T, Ref, Rule, Reason string }{{f.T, f.Ref, f.Rule, f.Reason}}, f.Items...)
		for _, x := range frames {
			if x.Ref == "say" && x.T == "ack" {
				return
			}
			if x.Ref == "say" && x.T == "err" {
				t.Fatalf("chat send refused: [%s] %s", x.Rule, x.Reason)
			}
		}
	}
}
