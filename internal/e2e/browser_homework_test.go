package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserHomework drives a homework round trip with headless
// Chromium against the real server: the teacher puts a worksheet into her
// WebDAV home with curl, sets a task with it as attachment (a too-short
// period is refused with HOMEWORK-PERIOD first), a pupil sees it, hands in
// a file by upload, the teacher sees the hand-in in the portal and over
// WebDAV (curl; another pupil gets 404 for it) and gives feedback, the
// pupil sees it. Screenshots (SCREENSHOTS=1) go to docs/screenshots/.
func TestBrowserHomework(t *testing.T) {
	chromium := requireChromium(t)
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is required in CI")
		}
		t.Skip("curl not installed")
	}
	_, cfg, base := startHTTPSOnly(t, "homework.toml", "[homework]\nmin_days = 2\n")
	ok(t, cfg, "", "user", "add", "--first", "Eva", "--last", "Lang", "--role", "teacher", "--group", "5a")
	ok(t, cfg, "", "user", "add", "--first", "Max", "--last", "Müller", "--role", "student", "--group", "5a")
	ok(t, cfg, "", "user", "add", "--first", "Zoë", "--last", "Groß", "--role", "student", "--group", "5a")
	const pw = "Sonne!Blume2026"
	for _, n := range []string{"eva.lang", "max.mueller", "zoe.gross"} {
		ok(t, cfg, pw+"\n", "user", "passwd", n, "--password-stdin")
	}
	dav := func(user string, args ...string) (string, string) {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sk", "-u", user + ":" + pw, "-w", "\n%{http_code}"}, args...)...).Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		s := string(out)
		i := strings.LastIndexByte(s, '\n')
		return s[:i], s[i+1:]
	}
	if _, code := dav("eva.lang", "-X", "PUT", "--data-binary", "Brüche kürzen: 4/8, 6/9", base+"/dav/home/arbeitsblatt.txt"); code != "201" && code != "204" {
		t.Fatalf("PUT worksheet: %s", code)
	}

	shot := screenshotter(t)

	eva := newBrowser(t, chromium, 1024, 800)
	maxB := newBrowser(t, chromium, 1024, 800)
	login(t, eva, base, "eva.lang", pw)
	login(t, maxB, base, "max.mueller", pw)

	// The teacher sets the task; due tomorrow is too short.
	local := func(d time.Time) string { return d.Format("2006-01-02T15:04") }
	tomorrow := time.Now().AddDate(0, 0, 1)
	run(t, eva, chromedp.Navigate(base+"/hausaufgaben"), chromedp.WaitVisible(chromedp.CSS("#hw-new")),
		chromedp.Click(chromedp.CSS("#hw-new")), chromedp.WaitVisible(chromedp.CSS("#hw-form")),
		chromedp.SendKeys(chromedp.CSS("#title"), "Brüche kürzen"),
		chromedp.SendKeys(chromedp.CSS("#text"), "Kürze die Brüche auf dem Arbeitsblatt.\nLade deine Lösung als Datei hoch."),
		chromedp.SetValue(chromedp.CSS("#due"), local(time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 8, 0, 0, 0, time.Local))),
		chromedp.Click(chromedp.CSS(`input[name="attach"][value="/arbeitsblatt.txt"]`)),
		chromedp.Click(chromedp.CSS("#announced")),
		chromedp.Click(chromedp.CSS("#hw-submit")))
	waitText(t, eva, ".err", "[HOMEWORK-PERIOD]")
	shot(eva, "homework-refused")
	due := time.Now().AddDate(0, 0, 7)
	run(t, eva, chromedp.SetValue(chromedp.CSS("#due"), local(time.Date(due.Year(), due.Month(), due.Day(), 8, 0, 0, 0, time.Local))),
		chromedp.Click(chromedp.CSS("#hw-submit")), chromedp.WaitVisible(chromedp.CSS("#hw-handins")))
	loc, _ := chromedp.Run(eva, chromedp.Location())
	m := regexp.MustCompile(`/hausaufgaben/(\d+)$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("after setting the task: %s", loc)
	}
	taskURL, id := base+m[0], m[1]
	waitText(t, eva, "#hw-attachments", "arbeitsblatt.txt")
	waitText(t, eva, "#hw-count", "0 von 2 abgegeben")

	// The due time is in the group calendar (portal and CalDAV), read-only.
	run(t, maxB, chromedp.Navigate(fmt.Sprintf("%s/kalender/5a?ansicht=liste&datum=%s", base, due.Format("2006-01-02"))))
	waitText(t, maxB, "main", "Abgabe: Brüche kürzen")
	shot(maxB, "homework-calendar")
	report := `<?xml version="1.0"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`
	if body, code := dav("max.mueller", "-X", "REPORT", "-H", "Depth: 1", "-H", "Content-Type: application/xml", "--data-binary", report,
		base+"/caldav/max.mueller/gruppen/5a/"); code != "207" || !strings.Contains(body, "SUMMARY:Abgabe: Brüche kürzen") ||
		!strings.Contains(body, "hausaufgaben-"+id+"@schulhof") {
		t.Fatalf("CalDAV REPORT: %s %s", code, body)
	}

	// The pupil sees it and hands in.
	run(t, maxB, chromedp.Navigate(base+"/hausaufgaben"))
	waitText(t, maxB, "#hw-list", "Brüche kürzen")
	waitText(t, maxB, "#hw-list", "offen")
	shot(maxB, "homework-list")
	run(t, maxB, chromedp.Click(chromedp.CSS(`#hw-list a[href="/hausaufgaben/`+id+`"]`)), chromedp.WaitVisible(chromedp.CSS("#hw-upload")))
	sol := filepath.Join(t.TempDir(), "max-loesung.txt")
	os.WriteFile(sol, []byte("1/2, 2/3 – Max"), 0o600)
	run(t, maxB, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{sol}), chromedp.Click(chromedp.CSS("#hw-hand-in")))
	waitText(t, maxB, ".ok", "Die Datei wurde abgegeben.")
	waitText(t, maxB, "#hw-my-files", "max-loesung.txt")
	waitText(t, maxB, "#hw-state", "abgegeben")
	shot(maxB, "homework-pupil")

	// The teacher sees it, in the portal and over WebDAV.
	run(t, eva, chromedp.Navigate(taskURL))
	waitText(t, eva, "#hw-count", "1 von 2 abgegeben")
	waitText(t, eva, `#hw-handins tr[data-pupil="max.mueller"]`, "max-loesung.txt")
	waitText(t, eva, `#hw-handins tr[data-pupil="zoe.gross"]`, "fehlt")
	folder := base + "/dav/abgaben/5a/" + id + "/"
	if body, code := dav("eva.lang", "-X", "PROPFIND", "-H", "Depth: 1", folder+"max.mueller/"); code != "207" || !strings.Contains(body, "max-loesung.txt") {
		t.Fatalf("teacher PROPFIND: %s %s", code, body)
	}
	if body, code := dav("eva.lang", folder+"max.mueller/max-loesung.txt"); code != "200" || body != "1/2, 2/3 – Max" {
		t.Fatalf("teacher GET over WebDAV: %s %q", code, body)
	}
	if body, code := dav("zoe.gross", folder+"max.mueller/max-loesung.txt"); code != "404" || strings.Contains(body, "Max") {
		t.Fatalf("another pupil GET over WebDAV: %s %q", code, body)
	}
	if body, code := dav("zoe.gross", "-X", "PROPFIND", "-H", "Depth: 1", folder); code != "207" || strings.Contains(body, "max.mueller") {
		t.Fatalf("another pupil PROPFIND: %s %s", code, body)
	}

	// Feedback, and the pupil reads it.
	run(t, eva, chromedp.SendKeys(chromedp.CSS(`#hw-handins tr[data-pupil="max.mueller"] textarea`), "Richtig gekürzt – gut gemacht!"),
		chromedp.Click(chromedp.CSS(`#hw-handins tr[data-pupil="max.mueller"] button`)))
	waitText(t, eva, ".ok", "Die Rückmeldung wurde gespeichert.")
	shot(eva, "homework-teacher")
	run(t, maxB, chromedp.Navigate(taskURL))
	waitText(t, maxB, "#hw-feedback", "Richtig gekürzt – gut gemacht!")
	shot(maxB, "homework-feedback")
	// On a phone: the same page, nothing cut off.
	run(t, maxB, chromedp.EmulateViewport(360, 740), chromedp.Navigate(taskURL))
	waitText(t, maxB, "#hw-feedback", "Richtig gekürzt")
	wide, _ := chromedp.Run(maxB, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if wide {
		t.Error("the task page scrolls sideways on a phone")
	}
	shot(maxB, "homework-mobile")
}
