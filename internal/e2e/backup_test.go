package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// sent is one message or file version a client sent: when it started and,
// if the server acknowledged it, when.
type sent struct {
	key            string // mail subject or file path
	data           []byte // file content (mail: the body text)
	version        int    // per path, in the order one worker sent them
	started, acked time.Time
}

// ledger records what the clients sent, under a mutex, and tells the test
// each acknowledgement (it waits on those, not on time).
type ledger struct {
	mu    sync.Mutex
	items []*sent
	ack   chan struct{}
}

func (l *ledger) add(s *sent) {
	l.mu.Lock()
	l.items = append(l.items, s)
	l.mu.Unlock()
}

func (l *ledger) acked(s *sent) {
	l.mu.Lock()
	s.acked = time.Now()
	l.mu.Unlock()
	select {
	case l.ack <- struct{}{}:
	default:
	}
}

func (l *ledger) snapshot() []sent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]sent, len(l.items))
	for i, s := range l.items {
		out[i] = *s
	}
	return out
}

// waitAcks waits until n more acknowledgements arrived in both ledgers.
func waitAcks(t *testing.T, n int, ls ...*ledger) {
	t.Helper()
	for _, l := range ls {
		for i := 0; i < n; i++ {
			select {
			case <-l.ack:
			case <-time.After(60 * time.Second):
				t.Fatalf("clients stopped making progress (%d of %d)", i, n)
			}
		}
	}
}

func mailWorker(addr, user string, w int, l *ledger, stop <-chan struct{}) {
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		s := &sent{key: fmt.Sprintf("bak-%d-%d", w, n), started: time.Now()}
		// Every fifth message is large enough for a blob file; the rest
		// are stored inline in the database.
		size := 300
		if n%5 == 0 {
			size = 40_000
		}
		s.data = []byte(strings.Repeat(fmt.Sprintf("Zeile %d %d\r\n", w, n), size/14))
		l.add(s)
		if err := sendBody(addr, user, s.key, s.data); err == nil {
			l.acked(s)
		}
	}
}

func sendBody(addr, user, subject string, body []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("backup.test"); err != nil {
		return err
	}
	if err := c.Auth(smtp.PlainAuth("", user, pw, "127.0.0.1")); err != nil {
		return err
	}
	if err := c.Mail(user + "@schule.test"); err != nil {
		return err
	}
	if err := c.Rcpt(user + "@schule.test"); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(wc, "From: %s@schule.test\r\nSubject: %s\r\n\r\n%s\r\n", user, subject, body)
	return wc.Close() // the server's reply to the final dot
}

// davWorker PUTs new files and, every third time, a new version of one
// file it keeps rewriting.
func davWorker(client *http.Client, base, user string, w int, l *ledger, stop <-chan struct{}) {
	versions := 0
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		s := &sent{key: fmt.Sprintf("f-%d-%d.bin", w, n), started: time.Now()}
		if n%3 == 2 {
			versions++
			s.key, s.version = fmt.Sprintf("rewrite-%d.bin", w), versions
		}
		size := 2_000 // inline
		if n%2 == 0 {
			size = 50_000 + n*997 // a blob file
		}
		s.data = make([]byte, size)
		rand.Read(s.data)
		l.add(s)
		req, _ := http.NewRequest("PUT", base+s.key, bytes.NewReader(s.data))
		req.SetBasicAuth(user, pw)
		resp, err := client.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 201 || resp.StatusCode == 204 {
			l.acked(s)
		}
	}
}

// fetchAll returns every INBOX message's full bytes by subject.
func fetchAll(t *testing.T, addr, user string) map[string][]byte {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	if sel.NumMessages == 0 {
		return out
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(set, &imap.FetchOptions{Envelope: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if _, dup := out[m.Envelope.Subject]; dup {
			t.Fatalf("message %s stored twice", m.Envelope.Subject)
		}
		out[m.Envelope.Subject] = m.BodySection[0].Bytes
	}
	return out
}

// davFiles lists the home folder (Depth 1) and GETs every file.
func davFiles(t *testing.T, client *http.Client, base, user string) map[string][]byte {
	t.Helper()
	req, _ := http.NewRequest("PROPFIND", base, strings.NewReader(`<?xml version="1.0"?><propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>`))
	req.SetBasicAuth(user, pw)
	req.Header.Set("Depth", "1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 207 {
		t.Fatalf("PROPFIND: %s", resp.Status)
	}
	var ms struct {
		Responses []struct {
			Href string `xml:"href"`
		} `xml:"response"`
	}
	if err := xml.NewDecoder(resp.Body).Decode(&ms); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, r := range ms.Responses {
		name, _ := url.PathUnescape(r.Href[strings.LastIndex(strings.TrimSuffix(r.Href, "/"), "/")+1:])
		if strings.HasSuffix(r.Href, "/") || name == "" {
			continue // the folder itself
		}
		g, _ := http.NewRequest("GET", base+name, nil)
		g.SetBasicAuth(user, pw)
		gr, err := client.Do(g)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(gr.Body)
		gr.Body.Close()
		if err != nil || gr.StatusCode != 200 {
			t.Fatalf("GET %s: %v %s", name, err, gr.Status)
		}
		out[name] = body
	}
	return out
}

// TestBackupUnderLoadRestore takes an online backup while SMTP deliveries
// and WebDAV PUTs run, restores it into a new directory, starts a server
// on it and compares every message (bytes over IMAP) and every file (bytes
// over WebDAV): everything acknowledged before the backup started is
// there, nothing started after it ended is, and nothing is corrupt.
func TestBackupUnderLoadRestore(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "data")
	cfg := WriteConfig(t, dir, "[limits.student]\nrecipients_per_message = 0\nmessages_per_hour = 0\n")
	srv := Start(t, cfg)
	const user = "anna.schmidt"
	ok(t, cfg, "Erst!Passw0rt1\n", "user", "add", "--first", "Anna", "--last", "Schmidt", "--password-stdin")
	ok(t, cfg, pw+"\n", "user", "passwd", user, "--password-stdin")

	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	base := "https://" + srv.Addrs["https"] + "/dav/home/"

	mail := &ledger{ack: make(chan struct{}, 1000)}
	files := &ledger{ack: make(chan struct{}, 1000)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(2)
		go func() { defer wg.Done(); mailWorker(srv.Addrs["submission"], user, w, mail, stop) }()
		go func() { defer wg.Done(); davWorker(client, base, user, w, files, stop) }()
	}
	waitAcks(t, 20, mail, files)

	bdir := filepath.Join(root, "backups")
	backupStart := time.Now()
	out := ok(t, cfg, "", "backup", "--to", bdir)
	backupEnd := time.Now()
	if !strings.Contains(out, "Sicherung fertig") {
		t.Fatalf("backup output: %s", out)
	}
	waitAcks(t, 10, mail, files) // the load went on through the backup
	close(stop)
	wg.Wait()

	// What the original server holds now (it kept serving): the bytes a
	// restored message must have.
	origMail := fetchAll(t, srv.Addrs["imap"], user)
	if v := ok(t, cfg, "", "backup", "verify", bdir); !strings.Contains(v, "in Ordnung") {
		t.Fatalf("verify: %s", v)
	}
	srv.Stop()

	newDir := filepath.Join(root, "restored")
	ok(t, cfg, "", "restore", "--from", bdir, "--data", newDir)
	fails(t, cfg, "", "nicht leer", "restore", "--from", bdir, "--data", newDir)
	srv2 := Start(t, WriteConfig(t, newDir, ""))
	defer srv2.Stop()
	base2 := "https://" + srv2.Addrs["https"] + "/dav/home/"

	gotMail := fetchAll(t, srv2.Addrs["imap"], user)
	mailMust, mailMay, large, inFlightKept := 0, 0, 0, 0
	for _, s := range mail.snapshot() {
		got, have := gotMail[s.key]
		switch {
		case !s.acked.IsZero() && s.acked.Before(backupStart):
			mailMust++
			if len(s.data) > 16<<10 {
				large++
			}
			if !have {
				t.Errorf("message %s acknowledged before the backup is missing", s.key)
			}
		case s.started.After(backupEnd):
			if have {
				t.Errorf("message %s sent after the backup is in it", s.key)
			}
		default:
			mailMay++
			if have {
				inFlightKept++
			}
		}
		if have {
			if !bytes.Equal(got, origMail[s.key]) || !bytes.Contains(got, s.data) {
				t.Errorf("message %s differs from the original", s.key)
			}
			delete(gotMail, s.key)
		}
	}
	for k := range gotMail {
		t.Errorf("restored mailbox holds %s, which no client sent", k)
	}

	gotFiles := davFiles(t, client, base2, user)
	filesMust := 0
	// newest version of each path acknowledged before the backup started
	minVersion := map[string]int{}
	versions := map[string][]sent{}
	for _, s := range files.snapshot() {
		versions[s.key] = append(versions[s.key], s)
		if !s.acked.IsZero() && s.acked.Before(backupStart) {
			filesMust++
			minVersion[s.key] = max(minVersion[s.key], s.version)
		}
	}
	for key, vs := range versions {
		got, have := gotFiles[key]
		if _, must := minVersion[key]; must && !have {
			t.Errorf("file %s acknowledged before the backup is missing", key)
			continue
		}
		if !have {
			continue
		}
		delete(gotFiles, key)
		match := -1
		for i, v := range vs {
			if bytes.Equal(got, v.data) {
				match = i
			}
		}
		switch {
		case match < 0:
			t.Errorf("file %s: restored content is no version a client sent (%d bytes)", key, len(got))
		case vs[match].started.After(backupEnd):
			t.Errorf("file %s: version %d was sent after the backup", key, vs[match].version)
		case vs[match].version < minVersion[key]:
			t.Errorf("file %s: version %d restored, but %d was acknowledged before the backup", key, vs[match].version, minVersion[key])
		}
	}
	for k := range gotFiles {
		t.Errorf("restored home holds %s, which no client sent", k)
	}
	if mailMust == 0 || filesMust == 0 || large == 0 {
		t.Fatal("nothing was acknowledged before the backup")
	}
	t.Logf("backup took %v under load; mail: %d acknowledged before it (%d blob files), %d in flight (%d of them in the backup); files: %d acknowledged before it",
		backupEnd.Sub(backupStart), mailMust, large, mailMay, inFlightKept, filesMust)

	// The restored server keeps working: a new message arrives.
	if err := sendBody(srv2.Addrs["submission"], user, "after-restore", []byte("neu")); err != nil {
		t.Fatal(err)
	}
	if _, ok := fetchAll(t, srv2.Addrs["imap"], user)["after-restore"]; !ok {
		t.Fatal("restored server does not deliver")
	}
}

// TestBackupVerifyCLI: a second backup hard-links the unchanged blob (one
// inode), `backup verify` passes both, and finds a damaged and a missing
// blob with exit code 1.
func TestBackupVerifyCLI(t *testing.T) {
	root := t.TempDir()
	cfg := WriteConfig(t, filepath.Join(root, "data"), "")
	srv := Start(t, cfg)
	const user = "anna.schmidt"
	ok(t, cfg, "Erst!Passw0rt1\n", "user", "add", "--first", "Anna", "--last", "Schmidt", "--password-stdin")
	ok(t, cfg, pw+"\n", "user", "passwd", user, "--password-stdin")
	if err := sendBody(srv.Addrs["submission"], user, "gross", bytes.Repeat([]byte("Blob-Inhalt 0123456789\r\n"), 2600)); err != nil {
		t.Fatal(err)
	}
	bdir := filepath.Join(root, "backups")
	ok(t, cfg, "", "backup", "--to", bdir)
	out := ok(t, cfg, "", "backup", "--to", bdir)
	srv.Stop()
	if strings.Contains(out, "verlinkt 0 B") { // the 61 KiB message blob
		t.Fatalf("second backup linked nothing: %s", out)
	}
	entries, _ := os.ReadDir(bdir)
	var backups []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			backups = append(backups, filepath.Join(bdir, e.Name()))
		}
	}
	if len(backups) != 2 {
		t.Fatalf("backups: %v", backups)
	}
	blobs, _ := filepath.Glob(filepath.Join(backups[0], "blobs", "*", "*"))
	if len(blobs) != 1 {
		t.Fatalf("blobs in the first backup: %v", blobs)
	}
	rel, _ := filepath.Rel(backups[0], blobs[0])
	a, _ := os.Stat(blobs[0])
	b, err := os.Stat(filepath.Join(backups[1], rel))
	if err != nil || !os.SameFile(a, b) {
		t.Fatalf("the unchanged blob is not hard-linked: %v", err)
	}
	if v := ok(t, cfg, "", "backup", "verify", bdir); !strings.Contains(v, "2 Sicherung(en) geprüft") {
		t.Fatalf("verify: %s", v)
	}

	raw, _ := os.ReadFile(blobs[0])
	raw[100] ^= 0x20
	os.WriteFile(blobs[0], raw, 0o600)
	r := CLI(t, cfg, "", "backup", "verify", backups[1])
	if r.Code != 1 || !strings.Contains(r.Stdout, "FEHLER") || !strings.Contains(r.Stdout, "Prüfsumme stimmt nicht") {
		t.Fatalf("damaged blob: exit %d\n%s", r.Code, r.Stdout)
	}
	os.Remove(blobs[0])
	os.Remove(filepath.Join(backups[1], rel))
	r = CLI(t, cfg, "", "backup", "verify", bdir)
	if r.Code != 1 || strings.Count(r.Stdout, "fehlt") != 2 {
		t.Fatalf("missing blob: exit %d\n%s", r.Code, r.Stdout)
	}
	fails(t, cfg, "", "restore fehlgeschlagen", "restore", "--from", backups[1], "--data", filepath.Join(root, "r"))

	// Without a running server the CLI opens the data directory itself.
	local := filepath.Join(root, "local")
	if out := ok(t, cfg, "", "backup", "--to", local, "--full"); !strings.Contains(out, "Sicherung fertig") {
		t.Fatalf("local backup: %s", out)
	}
	if v := ok(t, cfg, "", "backup", "verify", local); !strings.Contains(v, "in Ordnung") {
		t.Fatalf("verify local backup: %s", v)
	}
}

// TestScheduledBackupAtStart: with [backup] dir set and no backup yet,
// serve takes one right after start, and it verifies.
func TestScheduledBackupAtStart(t *testing.T) {
	root := t.TempDir()
	bdir := filepath.Join(root, "backups")
	cfg := WriteConfig(t, filepath.Join(root, "data"), fmt.Sprintf("[backup]\ndir = %q\ntime = \"03:00\"\nkeep_days = 3\n", bdir))
	srv := Start(t, cfg)
	if !strings.Contains(srv.Output(), "kept 3 days") {
		t.Fatalf("serve does not announce the schedule:\n%s", srv.Output())
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(srv.Output(), "msg=backup ") {
		if time.Now().After(deadline) {
			t.Fatalf("no backup after start:\n%s", srv.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.Stop()
	if v := ok(t, cfg, "", "backup", "verify", bdir); !strings.Contains(v, "1 Sicherung(en) geprüft") {
		t.Fatalf("verify: %s", v)
	}
}
