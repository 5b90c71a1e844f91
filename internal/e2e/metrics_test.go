package e2e

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches /metrics from the server's metrics listener and parses
// it with Prometheus' own text parser.
func scrape(t *testing.T, srv *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + srv.Addrs["metrics"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the sample of family name whose labels include want (a
// counter's or gauge's value, a histogram's count); found is false when
// there is none.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, found bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		case m.Histogram != nil:
			v += float64(m.Histogram.GetSampleCount())
		}
		found = true
	}
	return v, found
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsAfterTraffic drives SMTP, IMAP and WebDAV through the whole
// server with refusals of known rules and counts, then scrapes /metrics
// and finds each one: refusals by rule where the daemon answered them,
// failed logins per protocol, the delivery, connections, commands, the
// store's commits and size.
func TestMetricsAfterTraffic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	backups := filepath.Join(t.TempDir(), "backups")
	cfg := WriteConfig(t, dir, fmt.Sprintf("[files]\nstudent_quota_bytes = 65536\n[backup]\ndir = %q\n", backups))
	srv := Start(t, cfg)
	base := "http://" + srv.Addrs["metrics"]
	if srv.Addrs["metrics"] == "" {
		t.Fatalf("no metrics listener printed:\n%s", srv.Output())
	}
	if code, body := get(t, base+"/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz on a running server: %d %q", code, body)
	}
	const pass = "Metrik#Test-2026"
	addUser(t, cfg, "Mia", "Maus", pass)
	addUser(t, cfg, "Tom", "Tal", pass)

	// SMTP: two recipients outside the school (MAIL-INTERNAL), one
	// message delivered.
	c, err := smtp.Dial(srv.Addrs["submission"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "mia.maus", pass, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("mia.maus@schule.test"); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"someone@example.org", "other@example.net"} {
		if got := code(c.Rcpt(to)); !strings.HasPrefix(got, "550 5.7.1 [MAIL-INTERNAL]") {
			t.Fatalf("RCPT %s: %s", to, got)
		}
	}
	if err := c.Rcpt("tom.tal@schule.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, msg("mia.maus@schule.test", "tom.tal@schule.test", "Hallo", "Bis morgen."))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}

	// IMAP: three wrong passwords (fewer than the throttle allows).
	for range 3 {
		ic, err := imapclient.DialInsecure(srv.Addrs["imap"], nil)
		if err != nil {
			t.Fatal(err)
		}
		err = ic.Login("tom.tal", "Falsch#Passwort1").Wait()
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("wrong IMAP password: %v", err)
		}
		ic.Close()
	}

	// WebDAV: a file larger than the store keeps inline (a blob file),
	// then a PUT over the 64 KiB quota, refused with QUOTA.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	put := func(name string, size int) int {
		req, _ := http.NewRequest("PUT", "https://"+srv.Addrs["https"]+"/dav/home/"+name, strings.NewReader(strings.Repeat("x", size)))
		req.SetBasicAuth("mia.maus", pass)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 && !strings.Contains(string(b), "[QUOTA]") {
			t.Fatalf("PUT %s refused without naming QUOTA: %d %q", name, resp.StatusCode, b)
		}
		return resp.StatusCode
	}
	if got := put("bild.bin", 20000); got != 201 {
		t.Fatalf("PUT within quota: %d", got)
	}
	if got := put("gross.bin", 100000); got != 507 {
		t.Fatalf("PUT over quota: %d, want 507", got)
	}

	// The portal: a wrong password at the login form.
	jar, _ := cookiejar.New(nil)
	bc := &http.Client{Jar: jar, Transport: hc.Transport}
	resp, err := bc.Get("https://" + srv.Addrs["https"] + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if tok == nil {
		t.Fatalf("no login form: %s", page)
	}
	resp, err = bc.PostForm("https://"+srv.Addrs["https"]+"/anmelden",
		url.Values{"csrf": {string(tok[1])}, "account": {"mia.maus"}, "password": {"Falsch#Passwort1"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(page), "AUTH-FAILED") {
		t.Fatalf("portal login with a wrong password: %s %s", resp.Status, page)
	}

	// The backup-age gauge appears. serve takes a backup at start
	// ([backup] dir, none in the last 24 hours) and prunes after it; a
	// backup by hand is refused while that runs, and asked again.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r := CLI(t, cfg, "", "backup", "--to", backups)
		if r.Code == 0 {
			break
		}
		if !strings.Contains(r.Stderr+r.Stdout, "another backup is running") || time.Now().After(deadline) {
			t.Fatalf("backup: %+v", r)
		}
	}

	fams := scrape(t, srv)
	if age, found := value(fams, "schulhof_backup_age_seconds", nil); !found || age < 0 || age > 300 {
		t.Errorf("schulhof_backup_age_seconds = %v (found %v) right after a backup", age, found)
	}
	for _, c := range []struct {
		name    string
		labels  map[string]string
		want    float64
		atLeast bool // want is a lower bound
	}{
		{"schulhof_refusals_total", map[string]string{"protocol": "smtp", "rule": "MAIL-INTERNAL"}, 2, false},
		{"schulhof_refusals_total", map[string]string{"protocol": "imap", "rule": "AUTH-FAILED"}, 3, false},
		{"schulhof_refusals_total", map[string]string{"protocol": "dav", "rule": "QUOTA"}, 1, false},
		{"schulhof_refusals_total", map[string]string{"protocol": "web", "rule": "AUTH-FAILED"}, 1, false},
		{"schulhof_auth_failures_total", map[string]string{"protocol": "imap"}, 3, false},
		{"schulhof_auth_failures_total", map[string]string{"protocol": "web"}, 1, false},
		{"schulhof_auth_failures_total", map[string]string{"protocol": "smtp"}, 0, false},
		{"schulhof_auth_throttled_total", nil, 0, false},
		{"schulhof_mail_deliveries_total", nil, 1, false},
		{"schulhof_mail_delivery_recipients_total", nil, 1, false},
		{"schulhof_commands_total", map[string]string{"protocol": "smtp", "command": "RCPT"}, 3, false},
		{"schulhof_commands_total", map[string]string{"protocol": "smtp", "command": "DATA"}, 1, false},
		{"schulhof_commands_total", map[string]string{"protocol": "imap", "command": "LOGIN"}, 3, false},
		{"schulhof_commands_total", map[string]string{"protocol": "dav", "command": "PUT"}, 2, false},
		{"schulhof_connections_total", map[string]string{"protocol": "smtp", "listener": "submission"}, 1, false},
		{"schulhof_connections_total", map[string]string{"protocol": "imap", "listener": "imap"}, 3, false},
		{"schulhof_connections_total", map[string]string{"protocol": "web", "listener": "https"}, 1, true},
		{"schulhof_store_commit_seconds", nil, 3, true},
		{"schulhof_store_blob_sync_seconds", nil, 1, true},
		{"schulhof_store_blobs", nil, 1, true},
		{"schulhof_store_blob_bytes", nil, 20000, true},
		{"schulhof_store_db_bytes", nil, 4096, true},
	} {
		got, found := value(fams, c.name, c.labels)
		if c.want > 0 && !found {
			t.Errorf("%s%v: not in /metrics", c.name, c.labels)
			continue
		}
		if c.atLeast && got < c.want || !c.atLeast && got != c.want {
			t.Errorf("%s%v = %v, want %s%v", c.name, c.labels, got, map[bool]string{true: "≥ "}[c.atLeast], c.want)
		}
	}
	// No account names or client addresses in any label.
	for name, f := range fams {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if v := l.GetValue(); strings.Contains(v, "mia.maus") || strings.Contains(v, "tom.tal") || strings.Contains(v, "127.0.0.1") {
					t.Errorf("%s has label %s=%q", name, l.GetName(), v)
				}
			}
		}
	}
}

// TestMetricsListenerLoopbackOnly: serve refuses a metrics address on
// every interface unless allow_remote says so.
func TestMetricsListenerLoopbackOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "")
	// The harness's [metrics] section comes first; a second one would be
	// a TOML error, so the address is replaced in place.
	replaceInFile(t, cfg, `listen = "127.0.0.1:0"`, `listen = "0.0.0.0:0"`)
	r := CLI(t, cfg, "", "serve")
	if r.Code == 0 || !strings.Contains(r.Stderr, "not a loopback address") || !strings.Contains(r.Stderr, "allow_remote") {
		t.Fatalf("serve with metrics on 0.0.0.0: %+v", r)
	}
}

func replaceInFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}

// addUser creates a student with a password of her own choosing (no
// must-change), as after her first login.
func addUser(t *testing.T, cfg, first, last, pass string) {
	t.Helper()
	name := strings.ToLower(first + "." + last)
	ok(t, cfg, "", "user", "add", "--first", first, "--last", last, "--role", "student")
	ok(t, cfg, pass+"\n", "user", "passwd", name, "--password-stdin")
}
