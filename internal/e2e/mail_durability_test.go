package e2e

import (
	"fmt"
	"net/smtp"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"schulhof/store"
)

// sendLoop submits messages until stop is closed and returns the subjects
// that got a 250. It speaks plain SMTP on loopback (AUTH is allowed there)
// and never treats an unanswered message as delivered.
func sendLoop(addr, user string, worker int, stop <-chan struct{}) []string {
	var acked []string
	for n := 0; ; n++ {
		select {
		case <-stop:
			return acked
		default:
		}
		subject := fmt.Sprintf("dur-%d-%d", worker, n)
		if err := sendOne(addr, user, subject); err != nil {
			select {
			case <-stop:
				return acked
			default:
				time.Sleep(10 * time.Millisecond)
				continue
			}
		}
		acked = append(acked, subject)
	}
}

func sendOne(addr, user, subject string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("durability.test"); err != nil {
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
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: %s@schule.test\r\nSubject: %s\r\n\r\n%s\r\n", user, subject, strings.Repeat("Inhalt ", 200))
	return w.Close() // returns after the server's reply to the final dot
}

// TestDurabilitySIGKILL: every message that got a 250 survives a SIGKILL
// of the server mid-load, and the database passes bbolt's check.
func TestDurabilitySIGKILL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := WriteConfig(t, dir, "[limits.student]\nrecipients_per_message = 0\nmessages_per_hour = 0\n")
	srv := Start(t, cfg)
	ok(t, cfg, "Erst!Passw0rt1\n", "user", "add", "--first", "Anna", "--last", "Schmidt", "--password-stdin")
	ok(t, cfg, pw+"\n", "user", "passwd", "anna.schmidt", "--password-stdin")
	addr := srv.Addrs["submission"]
	if addr == "" {
		t.Fatalf("no submission listener:\n%s", srv.Output())
	}

	stop := make(chan struct{})
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := sendLoop(addr, "anna.schmidt", w, stop)
			mu.Lock()
			acked = append(acked, got...)
			mu.Unlock()
		}()
	}
	// Let the load run, then cut the power while it is in full swing.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		m, _ := mboxCount(t, srv.Addrs["imap"])
		if m >= 60 {
			break
		}
	}
	srv.Kill()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatalf("nothing was acknowledged before the kill:\n%s", srv.Output())
	}

	srv = Start(t, cfg)
	subjects := fetchSubjects(t, srv.Addrs["imap"])
	for _, s := range acked {
		if !subjects[s] {
			t.Errorf("acknowledged message %s lost after SIGKILL", s)
		}
	}
	t.Logf("%d messages acknowledged before SIGKILL, %d stored after restart", len(acked), len(subjects))
	srv.Stop()

	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if errs := st.Check(); len(errs) > 0 {
		t.Fatalf("bbolt check after SIGKILL: %v", errs)
	}
}

func mboxCount(t *testing.T, addr string) (uint32, error) {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Login("anna.schmidt", pw).Wait(); err != nil {
		return 0, err
	}
	d, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0, err
	}
	return *d.NumMessages, nil
}

func fetchSubjects(t *testing.T, addr string) map[string]bool {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("anna.schmidt", pw).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	if sel.NumMessages == 0 {
		return out
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(set, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		out[m.Envelope.Subject] = true
	}
	return out
}
