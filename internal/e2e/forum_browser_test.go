package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserForumModeration drives the forum with headless Chromium over
// two class forums: pupils post, one reports a post with "Melden"; the
// moderator of 5a (the class teacher) sees the report, deletes the post
// with a reason (the pupil sees the tombstone), and cannot delete in 6b
// by any path a browser has — 6b's pages, 6b's post ID in 5a's own
// moderation form, a script's POST to 6b's endpoint asking for JSON, a
// POST without the CSRF token. Screenshots go to docs/screenshots/ when
// SCREENSHOTS=1.
func TestBrowserForumModeration(t *testing.T) {
	chromium := requireChromium(t)
	_, cfg, base := startHTTPSOnly(t, "forum.toml", "")
	const pw = "Sonne!Blume2026"
	for _, u := range [][]string{{"Eva", "Lang", "teacher", "5a"}, {"Tom", "Brandt", "teacher", "6b"},
		{"Max", "Müller", "student", "5a"}, {"Lena", "Kurz", "student", "5a"}, {"Zoë", "Groß", "student", "6b"}} {
		ok(t, cfg, "", "user", "add", "--first", u[0], "--last", u[1], "--role", u[2], "--group", u[3])
	}
	for _, n := range []string{"eva.lang", "tom.brandt", "max.mueller", "lena.kurz", "zoe.gross"} {
		ok(t, cfg, pw+"\n", "user", "passwd", n, "--password-stdin")
	}
	if out := ok(t, cfg, "", "forum", "moderator", "list", "5a"); !strings.Contains(out, "eva.lang") || strings.Contains(out, "tom.brandt") {
		t.Fatalf("moderators of 5a: %s", out)
	}

	shot := screenshotter(t)
	attr := func(ctx context.Context, js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	newThread := func(ctx context.Context, forum, title, text string) string {
		t.Helper()
		run(t, ctx, chromedp.Navigate(base+"/forum"), chromedp.Click(chromedp.CSS(`a[href="/forum/`+forum+`"]`)),
			chromedp.WaitVisible(chromedp.CSS("#new-thread")),
			chromedp.SendKeys(chromedp.CSS("#title"), title),
			chromedp.SendKeys(chromedp.CSS("#text"), text),
			chromedp.Submit(chromedp.CSS("#text")),
			chromedp.WaitVisible(chromedp.CSS("#reply")))
		waitText(t, ctx, "#thread-title", title)
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		return loc
	}

	maxCtx := newBrowser(t, chromium, 1024, 760)
	lenaCtx := newBrowser(t, chromium, 1024, 760)
	zoeCtx := newBrowser(t, chromium, 1024, 760)
	evaCtx := newBrowser(t, chromium, 1024, 760)
	login(t, maxCtx, base, "max.mueller", pw)
	login(t, lenaCtx, base, "lena.kurz", pw)
	login(t, zoeCtx, base, "zoe.gross", pw)
	login(t, evaCtx, base, "eva.lang", pw)

	// Max opens a thread in 5a, Lena answers (rudely), Zoë posts in 6b.
	thread5a := newThread(maxCtx, "g:5a", "Klassenfahrt", "Wohin fahren wir im Mai?")
	run(t, lenaCtx, chromedp.Navigate(thread5a), chromedp.WaitVisible(chromedp.CSS("#reply")),
		chromedp.Click(chromedp.CSS("a.quote-link")), chromedp.WaitVisible(chromedp.CSS("#reply blockquote")),
		chromedp.SendKeys(chromedp.CSS("#text"), "Egal, Max hat eh keine Ahnung <b>lol</b>"),
		chromedp.Submit(chromedp.CSS("#text")))
	waitText(t, lenaCtx, "#posts", "keine Ahnung <b>lol</b>")
	if n := attr(lenaCtx, `String(document.querySelectorAll("#posts b").length)`); n != "0" {
		t.Fatal("a post was rendered as HTML")
	}
	thread6b := newThread(zoeCtx, "g:6b", "Referate", "Ich nehme die Römer.")
	post6b := attr(zoeCtx, `document.querySelector("#posts li").dataset.post`)

	// Max sees Lena's reply as new, and reports it.
	run(t, maxCtx, chromedp.Navigate(base+"/forum/g:5a"))
	waitText(t, maxCtx, ".thread.unread", "Klassenfahrt")
	shot(maxCtx, "forum-list")
	run(t, maxCtx, chromedp.Navigate(thread5a))
	waitText(t, maxCtx, "#posts li.new", "keine Ahnung")
	lenaPost := attr(maxCtx, `document.querySelector("#posts li.new").dataset.post`)
	run(t, maxCtx,
		chromedp.Click(chromedp.CSS(`#p`+lenaPost+` details.report summary`)),
		chromedp.SendKeys(chromedp.CSS(`#r`+lenaPost), "Das ist gemein."),
		chromedp.Click(chromedp.CSS(`#p`+lenaPost+` button.report-submit`)))
	waitText(t, maxCtx, "main", "Gemeldet")
	run(t, maxCtx, chromedp.EmulateViewport(360, 740))
	shot(maxCtx, "forum-thread-mobile")
	run(t, maxCtx, chromedp.EmulateViewport(1024, 760))

	// Eva, 5a's teacher, sees the report, reads it, deletes the post.
	run(t, evaCtx, chromedp.Navigate(base+"/forum"))
	waitText(t, evaCtx, "#forum-report-count", "1")
	run(t, evaCtx, chromedp.Click(chromedp.CSS(`a[href="/forum/meldungen"]`)), chromedp.Click(chromedp.CSS(`a[href^="/forum/meldungen/"]`)))
	waitText(t, evaCtx, ".frozen", "keine Ahnung")
	waitText(t, evaCtx, ".facts", "Das ist gemein.")
	run(t, evaCtx, chromedp.Navigate(thread5a),
		chromedp.Click(chromedp.CSS(`#p`+lenaPost+` details.mod summary`)),
		chromedp.SendKeys(chromedp.CSS(`#m`+lenaPost), "Beleidigung eines Mitschülers"),
		chromedp.Click(chromedp.CSS(`#p`+lenaPost+` button.delete`)))
	waitText(t, evaCtx, `#p`+lenaPost, "Beleidigung eines Mitschülers")
	shot(evaCtx, "forum-moderation")
	run(t, maxCtx, chromedp.Navigate(thread5a))
	waitText(t, maxCtx, `#p`+lenaPost+` .reason`, "Beleidigung eines Mitschülers")
	if strings.Contains(attr(maxCtx, `document.getElementById("posts").textContent`), "keine Ahnung") {
		t.Fatal("deleted text still shown")
	}

	// Eva cannot delete in 6b by any path.
	// 1. 6b's pages are closed to her.
	run(t, evaCtx, chromedp.Navigate(thread6b))
	waitText(t, evaCtx, ".err", "FORUM-MEMBER")
	// 2. 6b's post ID in her own forum's moderation form.
	run(t, evaCtx, chromedp.Navigate(thread5a), chromedp.WaitVisible(chromedp.CSS("#posts")))
	if _, err := chromedp.Run(evaCtx, chromedp.Evaluate[bool](`(function(){
		var f = document.querySelector("#posts details.mod form");
		f.querySelector("input[name=id]").value = "`+post6b+`";
		f.querySelector("input[name=reason]").value = "fremd";
		f.querySelector("button.delete").click(); return true })()`)); err != nil {
		t.Fatal(err)
	}
	waitText(t, evaCtx, ".err", "FORUM-MOD-SCOPE")
	shot(evaCtx, "forum-mod-scope")
	// 3. A script's POST to 6b's endpoint, with the CSRF token, asking for JSON.
	run(t, evaCtx, chromedp.Navigate(thread5a), chromedp.WaitVisible(chromedp.CSS("#posts")))
	for _, forum := range []string{"g:6b", "g:5a"} {
		rule, err := chromedp.Run(evaCtx, chromedp.Evaluate[string](`fetch("/forum/`+forum+`/moderieren", {method: "POST",
			headers: {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
			body: "act=delete&reason=x&id=`+post6b+`&csrf=" + encodeURIComponent(document.querySelector("input[name=csrf]").value)})
			.then(function (r) { return r.json(); }).then(function (j) { return j.rule; })`, chromedp.EvalAwaitPromise))
		if err != nil || rule != "FORUM-MOD-SCOPE" {
			t.Fatalf("script POST on %s: %q %v", forum, rule, err)
		}
	}
	// 4. Without the CSRF token.
	status, err := chromedp.Run(evaCtx, chromedp.Evaluate[int](`fetch("/forum/g:6b/moderieren", {method: "POST",
		headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "act=delete&reason=x&id=`+post6b+`"})
		.then(function (r) { return r.status; })`, chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Fatalf("POST without CSRF: %d %v", status, err)
	}
	// Zoë's post is untouched.
	run(t, zoeCtx, chromedp.Navigate(thread6b))
	waitText(t, zoeCtx, "#posts", "Ich nehme die Römer.")
	if out := ok(t, cfg, "", "audit", "list"); !strings.Contains(out, "forum.delete") || strings.Contains(out, "g:6b post") {
		t.Fatalf("audit log: %s", out)
	}
}
