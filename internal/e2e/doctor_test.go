package e2e

import (
	"crypto/tls"
	"fmt"
	"io/fs"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"schulhof/internal/doctor/dnstest"
	"schulhof/internal/tlsutil/tlstest"
)

// doctorEnv is a server config with fixed free ports (doctor connects to
// what the config says, so port 0 will not do), a CA-signed certificate
// for the domain and autoconfig, and a backup directory.
type doctorEnv struct {
	base, data, cfg, cert, key, backups string
}

func newDoctorEnv(t *testing.T) *doctorEnv {
	t.Helper()
	base := t.TempDir()
	e := &doctorEnv{base: base, data: filepath.Join(base, "data"), cert: filepath.Join(base, "cert.pem"),
		key: filepath.Join(base, "key.pem"), backups: filepath.Join(base, "backups")}
	tlstest.Issue(t, e.cert, e.key, tlstest.Spec{Serial: 42, Names: []string{"schule.test", "autoconfig.schule.test"}})
	var ports []int
	for i := 0; i < 5; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	e.cfg = filepath.Join(base, "schulhof.toml")
	cfg := fmt.Sprintf(`domain = "schule.test"
data_dir = %q
[listen]
submission  = "127.0.0.1:%d"
submissions = "127.0.0.1:%d"
imap        = "127.0.0.1:%d"
imaps       = "127.0.0.1:%d"
https       = "127.0.0.1:%d"
[tls]
cert = %q
key  = %q
[backup]
dir = %q
[metrics]
listen = "127.0.0.1:0"
`, e.data, ports[0], ports[1], ports[2], ports[3], ports[4], e.cert, e.key, e.backups)
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// mailWithBlob creates a user and sends a message too big to be kept
// inline, so the data directory has a blob file.
func mailWithBlob(t *testing.T, srv *Server, cfg string) {
	t.Helper()
	ok(t, cfg, "Erst!Passw0rt1\n", "user", "add", "--first", "Anna", "--last", "Schmidt", "--password-stdin")
	ok(t, cfg, pw+"\n", "user", "passwd", "anna.schmidt", "--password-stdin")
	conn, err := tls.Dial("tcp", srv.Addrs["submissions"], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, "schule.test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	from := "anna.schmidt@schule.test"
	if err := c.Auth(smtp.PlainAuth("", from, pw, "schule.test")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(from); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "From: %s\r\nTo: %s\r\nSubject: Arbeitsblatt\r\n\r\n%s\r\n", from, from, strings.Repeat("Zeile mit Text.\r\n", 3000))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
}

// blobFiles lists the blob files under the data directory.
func blobFiles(t *testing.T, data string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(data, "blobs")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "tmp" {
			return fs.SkipDir
		}
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(data, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// lines returns the output's lines that start with label.
func findings(out, label string) []string {
	var res []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, label) {
			res = append(res, l)
		}
	}
	return res
}

// TestDoctorHealthy: a running server with a CA-signed certificate, a
// stored blob and a fresh backup: every finding is OK except the DNS ones
// (the test DNS server knows no records), which say which record to add.
// Exit 0; --lang en gives the English texts.
func TestDoctorHealthy(t *testing.T) {
	e := newDoctorEnv(t)
	srv := Start(t, e.cfg)
	mailWithBlob(t, srv, e.cfg)
	if len(blobFiles(t, e.data)) == 0 {
		t.Fatal("no blob file after a 50 KB message")
	}
	ok(t, e.cfg, "", "backup", "--to", e.backups)
	dns := dnstest.Start(t)

	r := CLI(t, e.cfg, "", "doctor", "--dns-server", dns.Addr)
	if r.Code != 0 {
		t.Fatalf("doctor: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	warn := findings(r.Stdout, "[WARNUNG]")
	if len(warn) != 3 || len(findings(r.Stdout, "[FEHLER]")) != 0 {
		t.Fatalf("want exactly the three DNS warnings:\n%s", r.Stdout)
	}
	for _, w := range warn {
		if !strings.HasPrefix(w, "[WARNUNG]  DNS: ") {
			t.Fatalf("a warning that is not DNS: %q\n%s", w, r.Stdout)
		}
	}
	port := func(name string) string { _, p, _ := net.SplitHostPort(srv.Addrs[name]); return p }
	for _, want := range []string{
		"→ Im DNS der Schule eintragen: autoconfig.schule.test. IN CNAME schule.test.",
		"→ Im DNS der Schule eintragen: _submission._tcp.schule.test. IN SRV 0 1 " + port("submission") + " schule.test.",
		"→ Im DNS der Schule eintragen: _imaps._tcp.schule.test. IN SRV 0 1 " + port("imaps") + " schule.test.",
		"[OK]       Dienste: imaps (" + srv.Addrs["imaps"] + ") antwortet",
		"[OK]       Dienste: submission (" + srv.Addrs["submission"] + ") antwortet",
		"[OK]       Dienste: imap (" + srv.Addrs["imap"] + ") antwortet",
		"[OK]       Dienste: https (" + srv.Addrs["https"] + ") antwortet",
		"[OK]       Zertifikat: gültig bis",
		"[OK]       Zertifikat: gilt für schule.test, autoconfig.schule.test",
		"[OK]       Datenbank: bbolt-Prüfung ohne Befund",
		"[OK]       Inhalte: ",
		"alle vorhanden und unversehrt",
		"[OK]       Speicherplatz: ",
		"[OK]       Sicherung: letzte Sicherung in " + e.backups,
		"OK, 3 WARNUNG, 0 FEHLER",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if dns.Queries() == 0 {
		t.Error("doctor did not ask the DNS server given with --dns-server")
	}
	en := CLI(t, e.cfg, "", "doctor", "--dns-server", dns.Addr, "--lang", "en")
	if en.Code != 0 || !strings.Contains(en.Stdout, "[WARNING]  DNS: _imaps._tcp.schule.test has no SRV record") ||
		!strings.Contains(en.Stdout, "→ Add to the school's DNS: _imaps._tcp.schule.test.") ||
		!strings.Contains(en.Stdout, "OK, 3 WARNING, 0 ERROR") {
		t.Errorf("doctor --lang en: exit %d\n%s", en.Code, en.Stdout)
	}
	if t.Failed() {
		t.Log(r.Stdout)
	}
	srv.Stop()
}

// TestDoctorBroken: a blob file deleted and the certificate replaced by
// an expired one. With the server running (store checks over the socket)
// and without (read-only store) doctor exits 1 with a FEHLER naming the
// blob and one naming the certificate, each with its remedy; without a
// server and with the backups gone, one naming the missing backup.
func TestDoctorBroken(t *testing.T) {
	e := newDoctorEnv(t)
	srv := Start(t, e.cfg)
	mailWithBlob(t, srv, e.cfg)
	srv.Stop()
	blobs := blobFiles(t, e.data)
	if len(blobs) != 1 {
		t.Fatalf("blob files %v, want one", blobs)
	}
	if err := os.Remove(filepath.Join(e.data, blobs[0])); err != nil {
		t.Fatal(err)
	}
	expired := time.Now().Add(-72 * time.Hour)
	tlstest.Issue(t, e.cert, e.key, tlstest.Spec{Serial: 43, Names: []string{"schule.test", "autoconfig.schule.test"}, NotAfter: expired})
	dns := dnstest.Start(t)

	check := func(mode string, wantAlso ...string) {
		t.Helper()
		r := CLI(t, e.cfg, "", "doctor", "--dns-server", dns.Addr)
		if r.Code != 1 {
			t.Fatalf("%s: doctor exit %d, want 1\n%s%s", mode, r.Code, r.Stdout, r.Stderr)
		}
		for _, want := range append([]string{
			"[FEHLER]   Inhalte: 1 Inhalte fehlen, Mails oder Dateien darauf lassen sich nicht mehr öffnen: " + blobs[0],
			"→ Die Dateien aus der letzten Sicherung",
			"[FEHLER]   Zertifikat: " + e.cert + " ist am " + expired.Local().Format(time.DateOnly) + " abgelaufen",
			"→ Erneuern: certbot renew, danach systemctl reload schulhof",
			"[OK]       Datenbank: bbolt-Prüfung ohne Befund",
		}, wantAlso...) {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("%s: doctor output lacks %q", mode, want)
			}
		}
		if t.Failed() {
			t.Fatalf("%s:\n%s", mode, r.Stdout)
		}
	}
	// The server takes a backup at start when none is from the last 24
	// hours ([backup] dir is set), so "no backup" is checked without it.
	// The server starts with the expired certificate (clients will
	// refuse it, doctor says so); its store checks run over the socket.
	srv = Start(t, e.cfg)
	check("server running", "[OK]       Dienste: imaps")
	srv.Stop()
	// Without a server: a read-only store, which also sees a file nothing
	// counts (a normal start would sweep it).
	orphan := filepath.Join(e.data, "blobs", "ff", strings.Repeat("f", 62))
	os.MkdirAll(filepath.Dir(orphan), 0o700)
	if err := os.WriteFile(orphan, []byte("Rest"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(e.backups); err != nil {
		t.Fatal(err)
	}
	check("no server", "[WARNUNG]  Dienste: Der Server läuft nicht",
		"[FEHLER]   Sicherung: In "+e.backups+" liegt keine vollständige Sicherung.",
		"[WARNUNG]  Inhalte: 1 Dateien ohne Verweis: blobs/ff/"+strings.Repeat("f", 62))
	if _, err := os.Stat(orphan); err != nil {
		t.Fatalf("doctor removed the orphan: %v", err)
	}
}
