package e2e

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserCalendarHistory drives the group calendar with headless
// Chromium against the real server: a teacher creates an entry, a pupil
// (once the group allows members to write) changes it, and the entry's
// page shows who made it, who changed it last and both versions in its
// history; the month view shows it on a phone-sized screen too. The same
// entry is then read over CalDAV on the server's TLS listener.
// Screenshots go to docs/screenshots/ when SCREENSHOTS=1.
func TestBrowserCalendarHistory(t *testing.T) {
	chromium := requireChromium(t)
	_, cfg, base := startHTTPSOnly(t, "browser.toml", "")
	ok(t, cfg, "", "user", "add", "--first", "Eva", "--last", "Lang", "--role", "teacher", "--group", "5a")
	ok(t, cfg, "", "user", "add", "--first", "Zoë", "--last", "Groß", "--role", "student", "--group", "5a")
	const evaPW, zoePW = "Sonne!Blume2026", "Regen!Wald2026"
	ok(t, cfg, evaPW+"\n", "user", "passwd", "eva.lang", "--password-stdin")
	ok(t, cfg, zoePW+"\n", "user", "passwd", "zoe.gross", "--password-stdin")

	shot := screenshotter(t)

	eva := newBrowser(t, chromium, 1024, 760)
	zoe := newBrowser(t, chromium, 1024, 760)
	login(t, eva, base, "eva.lang", evaPW)
	login(t, zoe, base, "zoe.gross", zoePW)

	// Eva: the calendar from the navigation, a new entry.
	run(t, eva, chromedp.Click(chromedp.CSS(`nav a[href="/kalender"]`)), chromedp.WaitVisible(chromedp.CSS("#cal-new")),
		chromedp.Click(chromedp.CSS("#cal-new")), chromedp.WaitVisible(chromedp.CSS("#title")),
		chromedp.SendKeys(chromedp.CSS("#title"), "Elternabend"),
		chromedp.SetValue(chromedp.CSS("#start_time"), "18:00"),
		chromedp.SetValue(chromedp.CSS("#end_time"), "19:30"),
		chromedp.SendKeys(chromedp.CSS("#location"), "Aula"),
		chromedp.SendKeys(chromedp.CSS("#description"), "Themen: Klassenfahrt, Zeugnisse"),
		chromedp.Click(chromedp.CSS("#cal-save")), chromedp.WaitVisible(chromedp.CSS("#entry-title")))
	waitText(t, eva, "#entry-created", "Eva Lang")
	// Members may write: Eva switches it on.
	run(t, eva, chromedp.Navigate(base+"/kalender/5a"), chromedp.WaitVisible(chromedp.CSS(`input[name="members_write"]`)),
		chromedp.Click(chromedp.CSS(`input[name="members_write"]`)),
		chromedp.Submit(chromedp.CSS(`input[name="members_write"]`)), chromedp.WaitVisible(chromedp.CSS(".ok")))

	// Zoë changes the place from the month view.
	run(t, zoe, chromedp.Navigate(base+"/kalender/5a"), chromedp.WaitVisible(chromedp.CSS("a.item")),
		chromedp.Click(chromedp.CSS("a.item")), chromedp.WaitVisible(chromedp.CSS("#entry-edit")),
		chromedp.Click(chromedp.CSS("#entry-edit")), chromedp.WaitVisible(chromedp.CSS("#location")),
		chromedp.SetValue(chromedp.CSS("#location"), "Raum 12"),
		chromedp.Click(chromedp.CSS("#cal-save")), chromedp.WaitVisible(chromedp.CSS("#history")))

	// Eva sees who changed what: both versions, newest first.
	run(t, eva, chromedp.Navigate(base+"/kalender/5a"), chromedp.WaitVisible(chromedp.CSS("a.item")),
		chromedp.Click(chromedp.CSS("a.item")), chromedp.WaitVisible(chromedp.CSS("#history")))
	waitText(t, eva, "#entry-changed", "Zoë Groß")
	waitText(t, eva, "#entry-created", "Eva Lang")
	hist, err := chromedp.Run(eva, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#history > li")).map(function(li){return li.textContent.replace(/\s+/g," ").trim()})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || !strings.Contains(hist[0], "Geändert von Zoë Groß") || !strings.Contains(hist[0], "Raum 12") ||
		!strings.Contains(hist[1], "Angelegt von Eva Lang") || !strings.Contains(hist[1], "Aula") {
		t.Fatalf("history: %q", hist)
	}
	shot(eva, "calendar-entry")
	run(t, eva, chromedp.Navigate(base+"/kalender/5a"), chromedp.WaitVisible(chromedp.CSS("a.item")))
	shot(eva, "calendar-month")
	run(t, zoe, chromedp.EmulateViewport(360, 740), chromedp.Navigate(base+"/kalender/5a"), chromedp.WaitVisible(chromedp.CSS("a.item")))
	// On a phone the grid is a list of the days with entries.
	shown, _ := chromedp.Run(zoe, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("table.month td")).filter(function(td){return td.offsetParent!==null}).length`))
	if shown < 1 || shown > 3 {
		t.Errorf("phone month view shows %d day cells, want only the day with the entry", shown)
	}
	shot(zoe, "calendar-mobile")

	// The same entry over CalDAV, on the TLS listener, with Basic login.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	req, _ := http.NewRequest("REPORT", base+"/caldav/eva.lang/gruppen/5a/", strings.NewReader(`<?xml version="1.0"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>
<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>`))
	req.SetBasicAuth("eva.lang", evaPW)
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Depth", "1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(string(body), "LOCATION:Raum 12") {
		t.Fatalf("CalDAV REPORT over TLS: %d %s", resp.StatusCode, body)
	}
}
