package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-vcard"

	"schulhof/internal/admin"
	"schulhof/internal/auth"
	"schulhof/internal/tlsutil"
	"schulhof/policy"
	"schulhof/store"
)

// TestCardDAVVdirsyncer syncs the address book with vdirsyncer (Debian's
// CardDAV client) over HTTPS with the server's self-signed certificate:
// discovery from the server root (its PROPFIND names the one principal,
// which carries the CardDAV home set beside the CalDAV one), a first sync that writes one .vcf per
// account holding exactly the allowed fields, a second after a nickname
// change that updates one card, and a third after a lock that changes
// nothing (the portal shows locked accounts too); the locked account
// itself cannot sync.
func TestCardDAVVdirsyncer(t *testing.T) {
	bin, err := exec.LookPath("vdirsyncer")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("vdirsyncer missing in CI (.ci/run installs it)")
		}
		t.Skip("vdirsyncer not installed")
	}
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute, Logger: logger})
	cfg, _, err := tlsutil.Load("", "", filepath.Join(dir, "data"), "schule.test")
	if err != nil {
		t.Fatal(err)
	}
	certFile, _, _ := tlsutil.Paths("", "", filepath.Join(dir, "data"))
	srv := New(Options{Store: st, Auth: v, Policy: policy.NewEngine(), Logger: logger, TLS: cfg, Portal: &PortalOptions{Domain: "schule.test"}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		v.Close()
		st.Close()
	})
	svc := &admin.Service{Store: st, Policy: policy.NewEngine(), Domain: "schule.test", DefaultConsentComms: true}
	user := func(first, last string, role policy.Role, group string) string {
		c, err := svc.AddUser("test", admin.NewUser{First: first, Last: last, Role: role, Groups: []string{group}, Password: testPW, BirthDate: "2013-05-06"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateAccount(c.Account.Name, func(a *store.Account) error { a.MustChange = false; return nil }); err != nil {
			t.Fatal(err)
		}
		return c.Account.Name
	}
	teacher := user("Anna", "Lehrer", policy.Teacher, "5a")
	max := user("Max", "Müller", policy.Student, "5a")
	lena := user("Lena", "Schmidt", policy.Student, "6b")

	contacts := filepath.Join(dir, "contacts")
	vdir := func(name string) (string, error) {
		conf := filepath.Join(dir, name+".conf")
		os.MkdirAll(filepath.Join(contacts, name, "schule"), 0o700) // the local collection: no prompt to create it
		os.WriteFile(conf, []byte(fmt.Sprintf(`[general]
status_path = "%s/status-%s/"

[pair schule]
a = "lokal"
b = "server"
collections = ["from b"]

[storage lokal]
type = "filesystem"
path = "%s/%s/"
fileext = ".vcf"

[storage server]
type = "carddav"
url = "https://%s/"
username = "%s"
password = "%s"
verify = "%s"
read_only = true
`, dir, name, contacts, name, ln.Addr(), name, testPW, certFile)), 0o600)
		var out bytes.Buffer
		// discover in debug: the log shows the way it found the book.
		for _, args := range [][]string{{"-v", "DEBUG", "discover", "schule"}, {"sync"}} {
			cmd := exec.Command(bin, append([]string{"-c", conf}, args...)...)
			cmd.Env = append(os.Environ(), "HOME="+dir, "LANG=C.UTF-8", "LC_ALL=C.UTF-8") // click refuses an ASCII locale
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				return out.String(), fmt.Errorf("vdirsyncer %v: %v", args, err)
			}
		}
		return out.String(), nil
	}
	cards := func() map[string]string {
		files, err := filepath.Glob(filepath.Join(contacts, teacher, "schule", "*.vcf"))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(f)] = string(b)
		}
		return out
	}

	log, err := vdir(teacher)
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if !strings.Contains(log, "PROPFIND https://"+ln.Addr().String()+"/caldav/"+teacher+"/") ||
		!strings.Contains(log, "/carddav/"+teacher+"/adressbuecher/schule/") {
		t.Fatalf("discovery did not go from the root's principal to the book:\n%s", log)
	}
	first := cards()
	if len(first) != 3 {
		t.Fatalf("first sync: %d cards\n%s", len(first), log)
	}
	seen := map[string]bool{}
	for f, text := range first {
		c, err := vcard.NewDecoder(strings.NewReader(text)).Decode()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		acct := strings.TrimSuffix(c.Value(vcard.FieldEmail), "@schule.test")
		seen[acct] = true
		want := []string{"CATEGORIES", "EMAIL", "FN", "N", "UID", "VERSION"}
		if strings.Contains(text, "2013") || strings.Contains(text, "BDAY") || strings.Contains(text, "student") {
			t.Fatalf("%s shows more than allowed:\n%s", f, text)
		}
		checkFields(t, c, want...)
	}
	if !seen[teacher] || !seen[max] || !seen[lena] {
		t.Fatalf("cards of %v", seen)
	}

	// A nickname: the next sync updates exactly that card.
	if _, err := st.UpdateAccount(max, func(a *store.Account) error { a.Nickname = "Maxi"; return nil }); err != nil {
		t.Fatal(err)
	}
	if log, err = vdir(teacher); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	second := cards()
	changed := 0
	for f, text := range second {
		if text != first[f] {
			changed++
			if !strings.Contains(text, "NICKNAME:Maxi") || !strings.Contains(text, max+"@schule.test") {
				t.Fatalf("updated card %s:\n%s", f, text)
			}
		}
	}
	if changed != 1 || len(second) != 3 {
		t.Fatalf("second sync changed %d of %d cards\n%s", changed, len(second), log)
	}

	// A lock: Lena's card stays (as on the portal's page), unchanged.
	if err := svc.Lock("test", lena, "Test"); err != nil {
		t.Fatal(err)
	}
	if log, err = vdir(teacher); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	third := cards()
	for f, text := range second {
		if third[f] != text {
			t.Fatalf("third sync changed %s", f)
		}
	}
	if len(third) != 3 {
		t.Fatalf("third sync: %d cards", len(third))
	}
	// Lena herself is refused.
	if log, err := vdir(lena); err == nil || !strings.Contains(log, "403") {
		t.Fatalf("locked account synced: %v\n%s", err, log)
	}
}
