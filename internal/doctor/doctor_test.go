package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"schulhof/internal/doctor/dnstest"
	"schulhof/internal/tlsutil"
	"schulhof/internal/tlsutil/tlstest"
	"schulhof/store"
)

// texts renders findings in German and fails on a key without a catalog
// entry or a text with a formatting error.
func texts(t *testing.T, fs []Finding) string {
	t.Helper()
	var b bytes.Buffer
	for _, f := range fs {
		if _, ok := catalog[f.Key]; !ok {
			t.Errorf("finding %q has no catalog entry", f.Key)
		}
		for _, lang := range []string{"de", "en"} {
			what, todo := f.Text(lang)
			if strings.Contains(what+todo, "%!") {
				t.Errorf("%s (%s): %q / %q", f.Key, lang, what, todo)
			}
		}
	}
	Write(&b, fs, "de")
	return b.String()
}

func keys(fs []Finding) map[string]Severity {
	m := map[string]Severity{}
	for _, f := range fs {
		m[f.Key] = f.Severity
	}
	return m
}

func TestCatalogRenders(t *testing.T) {
	for key := range catalog {
		f := finding("x", Warn, key, "a", "b", "c", "d", "e")
		for _, lang := range []string{"de", "en"} {
			what, todo := f.Text(lang)
			if what == "" || strings.Contains(what+todo, "%!") {
				t.Errorf("%s (%s): %q / %q", key, lang, what, todo)
			}
		}
	}
}

var srvs = []SRVWant{{"submission", 587}, {"imaps", 993}}

// TestDNSMissingRecords: a resolver that knows nothing gives a WARNUNG per
// record, each naming the record to add; the answers came from the test
// server.
func TestDNSMissingRecords(t *testing.T) {
	d := dnstest.Start(t)
	fs := checkDNS(context.Background(), d.Resolver(), "schule.test", "mail.schule.test", srvs)
	out := texts(t, fs)
	want := map[string]Severity{"dns.noautoconfig": Warn, "dns.nosrv": Warn}
	if got := keys(fs); len(fs) != 3 || got["dns.noautoconfig"] != want["dns.noautoconfig"] || got["dns.nosrv"] != Warn {
		t.Fatalf("findings %v\n%s", fs, out)
	}
	for _, rec := range []string{
		"autoconfig.schule.test. IN CNAME mail.schule.test.",
		"_submission._tcp.schule.test. IN SRV 0 1 587 mail.schule.test.",
		"_imaps._tcp.schule.test. IN SRV 0 1 993 mail.schule.test.",
	} {
		if !strings.Contains(out, "→ Im DNS der Schule eintragen: "+rec) {
			t.Errorf("no remedy with %q:\n%s", rec, out)
		}
	}
	if d.Queries() == 0 {
		t.Fatal("the test DNS server was not asked")
	}
}

// TestDNSRecords: with the records in place every finding is OK; an SRV
// record with the wrong port is a WARNUNG with the right record.
func TestDNSRecords(t *testing.T) {
	d := dnstest.Start(t)
	d.AddA("mail.schule.test", net.IPv4(192, 0, 2, 10))
	d.AddA("mail.schule.test", net.ParseIP("2001:db8::10"))
	d.AddCNAME("autoconfig.schule.test", "mail.schule.test")
	d.AddSRV("_submission._tcp.schule.test", 1, 1, 587, "mail.schule.test")
	d.AddSRV("_imaps._tcp.schule.test", 0, 1, 143, "mail.schule.test")
	fs := checkDNS(context.Background(), d.Resolver(), "schule.test", "mail.schule.test", srvs)
	out := texts(t, fs)
	got := keys(fs)
	if got["dns.autoconfig"] != OK || got["dns.srv"] != OK || got["dns.srvwrong"] != Warn || len(fs) != 3 {
		t.Fatalf("findings %v\n%s", fs, out)
	}
	if !strings.Contains(out, "192.0.2.10") || !strings.Contains(out, "Den Eintrag ändern in: _imaps._tcp.schule.test. IN SRV 0 1 993 mail.schule.test.") {
		t.Fatalf("output:\n%s", out)
	}
}

func TestCertificate(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	cert := func(name string, s tlstest.Spec) string {
		p := filepath.Join(dir, name+".pem")
		tlstest.Issue(t, p, filepath.Join(dir, name+".key"), s)
		return p
	}
	both := []string{"mail.schule.test", "autoconfig.schule.test"}
	auto := []string{"autoconfig.schule.test"}

	fs, fp := checkCertificate(cert("good", tlstest.Spec{Serial: 5, Names: both}), false, "mail.schule.test", auto, now)
	texts(t, fs)
	for _, f := range fs {
		if f.Severity != OK {
			t.Fatalf("good certificate: %v", fs)
		}
	}
	if len(fp) != 64 {
		t.Fatalf("fingerprint %q", fp)
	}

	fs, _ = checkCertificate(cert("expired", tlstest.Spec{Serial: 6, Names: both, NotAfter: now.Add(-48 * time.Hour)}), false, "mail.schule.test", auto, now)
	out := texts(t, fs)
	if keys(fs)["cert.expired.files"] != Fail || !Failed(fs) ||
		!strings.Contains(out, "expired.pem ist am "+now.Add(-48*time.Hour).Local().Format(time.DateOnly)+" abgelaufen") ||
		!strings.Contains(out, "→ Erneuern: certbot renew, danach systemctl reload schulhof") {
		t.Fatalf("expired:\n%s", out)
	}

	fs, _ = checkCertificate(cert("soon", tlstest.Spec{Serial: 7, Names: []string{"mail.schule.test"}, NotAfter: now.Add(5 * 24 * time.Hour)}), false, "mail.schule.test", auto, now)
	out = texts(t, fs)
	if k := keys(fs); k["cert.soon.files"] != Warn || k["cert.othernames"] != Warn || Failed(fs) ||
		!strings.Contains(out, "certbot … -d autoconfig.schule.test") {
		t.Fatalf("soon, without autoconfig:\n%s", out)
	}

	fs, _ = checkCertificate(cert("other", tlstest.Spec{Serial: 8, Names: []string{"www.example.org"}}), false, "mail.schule.test", auto, now)
	if out := texts(t, fs); keys(fs)["cert.noname"] != Fail || !strings.Contains(out, "nicht für mail.schule.test") {
		t.Fatalf("wrong names:\n%s", out)
	}

	c, err := tlsutil.Open(tlsutil.Options{DataDir: dir, Domain: "schule.test"})
	if err != nil {
		t.Fatal(err)
	}
	self, _ := c.Files()
	fs, _ = checkCertificate(self, true, "schule.test", []string{"autoconfig.schule.test"}, now)
	if out := texts(t, fs); keys(fs)["cert.selfsigned"] != Warn || Failed(fs) {
		t.Fatalf("self-signed:\n%s", out)
	}
	fs, _ = checkCertificate(filepath.Join(dir, "nope.pem"), false, "schule.test", nil, now)
	if keys(fs)["cert.unreadable"] != Fail {
		t.Fatalf("missing file: %v", fs)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("kein Zertifikat"), 0o644)
	fs, _ = checkCertificate(garbage, false, "schule.test", nil, now)
	if out := texts(t, fs); keys(fs)["cert.bad"] != Fail || !strings.Contains(out, "fullchain.pem") {
		t.Fatalf("garbage:\n%s", out)
	}
}

// TestListeners: an answering TLS listener is OK, one presenting another
// certificate than the file a WARNUNG, a closed port a FEHLER, and a
// stopped server one WARNUNG.
func TestListeners(t *testing.T) {
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	tlstest.Issue(t, cf, kf, tlstest.Spec{Serial: 9})
	c, err := tlsutil.Open(tlsutil.Options{CertFile: cf, KeyFile: kf})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", c.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { conn.(*tls.Conn).Handshake(); conn.Close() }()
		}
	}()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	ls := []Listener{{"imaps", ln.Addr().String(), ImplicitTLS}, {"submissions", closedAddr, ImplicitTLS}, {"imap", "", IMAPStartTLS}}
	fp := tlsutil.Fingerprint(c.Leaf())
	fs := checkListeners(context.Background(), ls, true, fp, 2*time.Second)
	out := texts(t, fs)
	if len(fs) != 2 || fs[0].Key != "listen.ok" || fs[1].Key != "listen.down" || fs[1].Severity != Fail ||
		!strings.Contains(out, "submissions ("+closedAddr+") antwortet nicht") {
		t.Fatalf("findings:\n%s", out)
	}
	fs = checkListeners(context.Background(), ls[:1], true, strings.Repeat("0", 64), 2*time.Second)
	if out := texts(t, fs); fs[0].Key != "listen.oldcert" || !strings.Contains(out, "systemctl reload schulhof") {
		t.Fatalf("old certificate:\n%s", out)
	}
	fs = checkListeners(context.Background(), ls, false, fp, time.Second)
	if len(fs) != 1 || fs[0].Key != "listen.notrunning" || fs[0].Severity != Warn {
		t.Fatalf("not running: %v", fs)
	}
	if got := dialAddr(":993"); got != "127.0.0.1:993" {
		t.Fatalf("dialAddr(:993) = %s", got)
	}
	if got := dialAddr("[::]:993"); got != "[::1]:993" {
		t.Fatalf("dialAddr([::]:993) = %s", got)
	}
}

func TestDisk(t *testing.T) {
	for _, c := range []struct {
		u    store.DiskSpace
		want string
	}{
		{store.DiskSpace{DataBytes: 1 << 30, FreeBytes: 100 << 20, TotalBytes: 10 << 30}, "disk.full"},
		{store.DiskSpace{DataBytes: 5 << 30, FreeBytes: 2 << 30, TotalBytes: 10 << 30}, "disk.low"},
		{store.DiskSpace{DataBytes: 1 << 30, FreeBytes: 8 << 30, TotalBytes: 10 << 30}, "disk.ok"},
	} {
		if f := checkDisk(c.u); f.Key != c.want {
			t.Errorf("%+v: %s, want %s", c.u, f.Key, c.want)
		}
	}
}

// TestBackupAge: no directory, no backup, a fresh one, one three days old.
func TestBackupAge(t *testing.T) {
	now := time.Now()
	if f := checkBackup("", now); f.Key != "backup.off" || f.Severity != Warn {
		t.Fatalf("off: %v", f)
	}
	dir := t.TempDir()
	if f := checkBackup(dir, now); f.Key != "backup.none" || f.Severity != Fail {
		t.Fatalf("none: %v", f)
	}
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Backup(dir, store.BackupOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if f := checkBackup(dir, time.Now()); f.Key != "backup.ok" {
		t.Fatalf("fresh: %v", f)
	}
	f := checkBackup(dir, time.Now().Add(72*time.Hour))
	if out := texts(t, []Finding{f}); f.Key != "backup.old" || f.Severity != Fail || !strings.Contains(out, "schulhof backup --to "+dir) {
		t.Fatalf("old:\n%s", out)
	}
}
