package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestBrowserPortalAndChat drives the portal with headless Chromium: two
// pupils log in (one through the forced password change), chat in their
// class room and directly, reload, survive a server restart, report a
// message; the admin reads the report and cannot reach the room any other
// way; a locked pupil's page loses its socket within a second.
// Screenshots go to docs/screenshots/ when SCREENSHOTS=1.
func TestBrowserPortalAndChat(t *testing.T) {
	chromium := requireChromium(t)
	srv, cfg, base := startHTTPSOnly(t, "browser.toml", "")
	adminName := srv.AdminName // printed on the first start only

	out := ok(t, cfg, "", "user", "add", "--first", "Max", "--last", "Müller", "--role", "student", "--group", "5a")
	maxOneTime := strings.Fields(out)[2]
	ok(t, cfg, "", "user", "add", "--first", "Zoë", "--last", "Groß", "--role", "student", "--group", "5a")
	ok(t, cfg, "", "user", "add", "--first", "Eva", "--last", "Lang", "--role", "teacher", "--group", "5a")
	const zoePW, maxPW, adminPW = "Sonne!Blume2026", "Regen!Wald2026", "Wolke!Stern2026"
	ok(t, cfg, zoePW+"\n", "user", "passwd", "zoe.gross", "--password-stdin")
	ok(t, cfg, adminPW+"\n", "user", "passwd", adminName, "--password-stdin")

	shot := screenshotter(t)

	maxCtx := newBrowser(t, chromium, 1024, 760)
	zoeCtx := newBrowser(t, chromium, 1024, 760)

	// Max: one-time password → only the change page → start page.
	run(t, maxCtx, chromedp.EmulateViewport(360, 740), chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#account")))
	shot(maxCtx, "login")
	run(t, maxCtx, chromedp.EmulateViewport(1024, 760),
		chromedp.SendKeys(chromedp.CSS("#account"), "max.mueller"),
		chromedp.SendKeys(chromedp.CSS("#password"), maxOneTime),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#current")))
	loc, _ := chromedp.Run(maxCtx, chromedp.Location())
	if !strings.HasSuffix(loc, "/konto/passwort") {
		t.Fatalf("must-change account landed on %s", loc)
	}
	run(t, maxCtx, chromedp.Navigate(base+"/adressbuch"), chromedp.WaitVisible(chromedp.CSS("#current")))
	run(t, maxCtx,
		chromedp.SendKeys(chromedp.CSS("#current"), maxOneTime),
		chromedp.SendKeys(chromedp.CSS("#new"), maxPW),
		chromedp.SendKeys(chromedp.CSS("#repeat"), maxPW),
		chromedp.Submit(chromedp.CSS("#repeat")),
		chromedp.WaitVisible(chromedp.CSS(".tiles")))
	shot(maxCtx, "start")

	// Zoë logs in normally.
	login(t, zoeCtx, base, "zoe.gross", zoePW)

	// Address book: search as you type.
	run(t, maxCtx, chromedp.Navigate(base+"/adressbuch"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "groß"))
	// typed letter by letter: the last answer leaves one row
	c, cancel := context.WithTimeout(maxCtx, 10*time.Second)
	_, err := chromedp.Run(c, chromedp.Poll[bool](`document.querySelectorAll("#ab-rows tr").length === 1 &&
		document.getElementById("ab-rows").textContent.indexOf("zoe.gross@schule.test") >= 0`))
	cancel()
	if err != nil {
		t.Fatalf("search as you type: %v", err)
	}
	shot(maxCtx, "addressbook")

	// Class room.
	openChat(t, maxCtx, base+"/chat")
	openChat(t, zoeCtx, base+"/chat")
	say(t, maxCtx, "Hallo 5a, hier ist Max")
	waitText(t, zoeCtx, "#messages", "Hallo 5a, hier ist Max")
	say(t, zoeCtx, "Hallo Max!")
	waitText(t, maxCtx, "#messages", "Hallo Max!")
	say(t, zoeCtx, "<b>fett?</b> <img src=x onerror=alert(1)>")
	waitText(t, maxCtx, "#messages", "<b>fett?</b>")
	imgs, _ := chromedp.Run(maxCtx, chromedp.Evaluate[int](`document.querySelectorAll("#messages img, #messages b").length`))
	if imgs != 0 {
		t.Fatal("a message was rendered as HTML")
	}

	// Direct conversation, opened from the address book link.
	openChat(t, maxCtx, base+"/chat?dm=zoe.gross")
	waitText(t, maxCtx, "#room-title", "Zoë Groß")
	say(t, maxCtx, "Nur für dich, Zoë")
	waitText(t, zoeCtx, "#room-list", "Max Müller")
	run(t, zoeCtx, chromedp.Click(chromedp.CSS(`#room-list button[data-room="d:max.mueller:zoe.gross"]`)))
	waitText(t, zoeCtx, "#messages", "Nur für dich, Zoë")

	// Reload: history is there.
	openChat(t, zoeCtx, base+"/chat")
	waitText(t, zoeCtx, "#messages", "Hallo 5a, hier ist Max")

	// Restart: both pages reconnect by themselves and resume.
	srv.Stop()
	srv = Start(t, cfg)
	waitState(t, maxCtx, "open", 30*time.Second)
	waitState(t, zoeCtx, "open", 30*time.Second)
	run(t, maxCtx, chromedp.Click(chromedp.CSS(`#room-list button[data-room="g:5a"]`)))
	say(t, maxCtx, "Nach dem Neustart")
	waitText(t, zoeCtx, "#messages", "Nach dem Neustart")
	waitText(t, zoeCtx, "#messages", "Hallo Max!")

	// Zoë reports Max's message (the prompt asks for the reason).
	dialogs := chromedp.Events(zoeCtx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			go chromedp.Call(zoeCtx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true, PromptText: "Das war gemein."})
		}
	}()
	run(t, zoeCtx, chromedp.Click(chromedp.CSS(`#messages li[data-seq="1"] button.report`)))
	waitText(t, zoeCtx, "#chat-error", "Gemeldet")
	shot(zoeCtx, "chat")
	run(t, zoeCtx, chromedp.EmulateViewport(360, 740))
	shot(zoeCtx, "chat-mobile")
	run(t, zoeCtx, chromedp.EmulateViewport(1024, 760))

	// The admin sees the report at once and reads it.
	adminCtx := newBrowser(t, chromium, 1024, 760)
	login(t, adminCtx, base, adminName, adminPW)
	waitText(t, adminCtx, "#report-count-start", "1")
	run(t, adminCtx, chromedp.Navigate(base+"/meldungen"), chromedp.Click(chromedp.CSS(`a[href="/meldungen/1"]`)))
	waitText(t, adminCtx, ".frozen", "Hallo 5a, hier ist Max")
	waitText(t, adminCtx, ".facts", "Das war gemein.")
	shot(adminCtx, "report")
	// …and cannot open the room or its history any other way.
	openChat(t, adminCtx, base+"/chat")
	n, _ := chromedp.Run(adminCtx, chromedp.Evaluate[int](`document.querySelectorAll("#room-list li").length`))
	if n != 0 {
		t.Fatalf("admin sees %d rooms", n)
	}
	rule, err := chromedp.Run(adminCtx, chromedp.Evaluate[string](`new Promise(function (ok) {
		var w = new WebSocket("wss://" + location.host + "/chat/ws");
		w.onopen = function () { w.send(JSON.stringify({t: "hist", room: "g:5a", ref: "x"})); };
		w.onmessage = function (e) { var m = JSON.parse(e.data); if (m.t === "err") ok(m.rule); };
	})`, chromedp.EvalAwaitPromise))
	if err != nil || rule != "CHAT-READ-REPORTED" {
		t.Fatalf("admin reading history by room ID: %q", rule)
	}
	if out := ok(t, cfg, "", "report", "list"); !strings.Contains(out, "zoe.gross") || strings.Contains(out, "Hallo") {
		t.Fatalf("report list: %s", out)
	}
	if out := ok(t, cfg, "", "report", "show", "1"); !strings.Contains(out, "> #1") || !strings.Contains(out, "Das war gemein.") {
		t.Fatalf("report show: %s", out)
	}

	// Locking Zoë ends her open page's socket within a second.
	ok(t, cfg, "", "user", "lock", "zoe.gross", "--reason", "Test")
	waitState(t, zoeCtx, "ended", time.Second)
}
