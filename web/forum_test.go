package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// forumEnv: two classes, each with its teacher (moderator by default)
// and a pupil, and a thread in each forum.
type forumEnv struct {
	*portalEnv
	eva, tom, max, zoe *browser // eva teaches 5a, tom 6b; max is in 5a, zoe in 6b
	t5, t6             uint64   // threads
	p5, p6             uint64   // their first posts
}

var threadLoc = regexp.MustCompile(`/forum/[^/]+/thema/(\d+)`)

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.e.t.Helper()
	form.Set("csrf", b.csrf("/forum"))
	return b.do("POST", path, form)
}

func (b *browser) newThread(forum, title, text string) uint64 {
	b.e.t.Helper()
	resp, body := b.post("/forum/"+forum+"/neu", url.Values{"title": {title}, "text": {text}})
	m := threadLoc.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		b.e.t.Fatalf("new thread in %s: %s %s", forum, resp.Status, body)
	}
	id, _ := strconv.ParseUint(m[1], 10, 64)
	return id
}

func newForumEnv(t *testing.T, mod func(*PortalOptions)) *forumEnv {
	e := &forumEnv{portalEnv: newPortalEnv(t, mod)}
	names := []string{
		e.user("Eva", "Lang", policy.Teacher, false, "5a"),
		e.user("Tom", "Brandt", policy.Teacher, false, "6b"),
		e.user("Max", "Müller", policy.Student, false, "5a"),
		e.user("Zoë", "Groß", policy.Student, false, "6b"),
	}
	bs := make([]*browser, 4)
	for i, n := range names {
		bs[i] = e.browser()
		bs[i].mustLogin(n)
	}
	e.eva, e.tom, e.max, e.zoe = bs[0], bs[1], bs[2], bs[3]
	e.t5 = e.max.newThread("g:5a", "Ausflug", "Wohin fahren wir?")
	e.t6 = e.zoe.newThread("g:6b", "Referate", "Wer nimmt welches Thema?")
	th5, _ := e.st.ForumThread(e.t5)
	th6, _ := e.st.ForumThread(e.t6)
	e.p5, e.p6 = th5.LastPost, th6.LastPost
	return e
}

func ruleOf(body string) string {
	m := regexp.MustCompile(`\[([A-Z0-9-]+)\]`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestForumModScopeEveryPath: the moderator of 5a cannot delete, hide or
// lock anything of 6b by any path — 6b's IDs on 5a's URL, 6b's URL, the
// JSON answer, without CSRF token, from another origin — nor read 6b's
// reports; a pupil cannot moderate her own forum; 6b's post stays intact.
func TestForumModScopeEveryPath(t *testing.T) {
	e := newForumEnv(t, nil)
	type try struct {
		name, path string
		form       url.Values
		status     int
		rule       string
	}
	id := func(n uint64) string { return strconv.FormatUint(n, 10) }
	tries := []try{
		{"6b post on 5a URL, delete", "/forum/g:5a/moderieren", url.Values{"act": {"delete"}, "id": {id(e.p6)}, "reason": {"x"}}, 403, "FORUM-MOD-SCOPE"},
		{"6b post on 5a URL, hide", "/forum/g:5a/moderieren", url.Values{"act": {"hide"}, "id": {id(e.p6)}}, 403, "FORUM-MOD-SCOPE"},
		{"6b thread on 5a URL, lock", "/forum/g:5a/moderieren", url.Values{"act": {"lock"}, "id": {id(e.t6)}}, 403, "FORUM-MOD-SCOPE"},
		{"6b post on 6b URL, delete", "/forum/g:6b/moderieren", url.Values{"act": {"delete"}, "id": {id(e.p6)}, "reason": {"x"}}, 403, "FORUM-MOD-SCOPE"},
		{"6b post on 6b URL, hide", "/forum/g:6b/moderieren", url.Values{"act": {"hide"}, "id": {id(e.p6)}}, 403, "FORUM-MOD-SCOPE"},
		{"6b thread on 6b URL, lock", "/forum/g:6b/moderieren", url.Values{"act": {"lock"}, "id": {id(e.t6)}}, 403, "FORUM-MOD-SCOPE"},
		{"unknown action", "/forum/g:5a/moderieren", url.Values{"act": {"purge"}, "id": {id(e.p5)}}, 403, "FORUM-MOD-SCOPE"},
		{"6b thread in 5a's reply form", "/forum/g:5a/thema/" + id(e.t6) + "/antwort", url.Values{"text": {"hallo"}}, 404, ""},
		{"6b thread in 6b's reply form", "/forum/g:6b/thema/" + id(e.t6) + "/antwort", url.Values{"text": {"hallo"}}, 403, "FORUM-MEMBER"},
		{"new thread in 6b", "/forum/g:6b/neu", url.Values{"title": {"x"}, "text": {"y"}}, 403, "FORUM-MEMBER"},
		{"report 6b's post on 5a URL", "/forum/g:5a/melden", url.Values{"post": {id(e.p6)}, "reason": {"x"}}, 404, ""},
	}
	for _, tr := range tries {
		resp, body := e.eva.post(tr.path, tr.form)
		if resp.StatusCode != tr.status || ruleOf(body) != tr.rule {
			t.Errorf("%s: %s rule %q, want %d %q", tr.name, resp.Status, ruleOf(body), tr.status, tr.rule)
		}
	}
	// The JSON answer, directly.
	req, _ := http.NewRequest("POST", e.base+"/forum/g:5a/moderieren", strings.NewReader(url.Values{
		"csrf": {e.eva.csrf("/forum")}, "act": {"delete"}, "id": {id(e.p6)}, "reason": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.base)
	req.Header.Set("Accept", "application/json")
	for k, v := range e.eva.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var js map[string]string
	json.NewDecoder(resp.Body).Decode(&js)
	resp.Body.Close()
	if resp.StatusCode != 403 || js["rule"] != "FORUM-MOD-SCOPE" {
		t.Errorf("JSON moderation: %s %v", resp.Status, js)
	}
	// Reading 6b by its pages and JSON.
	for _, path := range []string{"/forum/g:6b", "/forum/g:6b/thema/" + id(e.t6), "/forum/g:6b/thema/" + id(e.t6) + "/json"} {
		if resp, body := e.eva.do("GET", path, nil); resp.StatusCode != 403 || !strings.Contains(body, "FORUM-MEMBER") {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
	for _, path := range []string{"/forum/g:5a/thema/" + id(e.t6), "/forum/g:5a/thema/" + id(e.t6) + "/json"} {
		if resp, _ := e.eva.do("GET", path, nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
	// Without CSRF token, and from another origin.
	if resp, body := e.eva.do("POST", "/forum/g:5a/moderieren", url.Values{"act": {"delete"}, "id": {id(e.p5)}, "reason": {"x"}}); resp.StatusCode != 403 || !strings.Contains(body, "[CSRF]") {
		t.Errorf("no CSRF token: %s", resp.Status)
	}
	e.eva.origin = "https://evil.example"
	if resp, body := e.eva.post("/forum/g:5a/moderieren", url.Values{"act": {"delete"}, "id": {id(e.p5)}, "reason": {"x"}}); resp.StatusCode != 403 || !strings.Contains(body, "[CSRF]") {
		t.Errorf("foreign origin: %s", resp.Status)
	}
	e.eva.origin = e.base
	// A report in 6b is not eva's to read.
	if resp, _ := e.max.post("/forum/g:5a/melden", url.Values{"post": {id(e.p5)}, "reason": {"test"}}); resp.StatusCode != 303 {
		t.Fatalf("report in 5a: %s", resp.Status)
	}
	if resp, body := e.zoe.post("/forum/g:6b/melden", url.Values{"post": {id(e.p6)}, "reason": {"gemein"}}); resp.StatusCode != 303 {
		t.Fatalf("report in 6b: %s %s", resp.Status, body)
	}
	reps, _ := e.st.ForumReports(map[string]bool{"g:6b": true}, true)
	if len(reps) != 1 {
		t.Fatalf("6b reports: %+v", reps)
	}
	for _, path := range []string{"/forum/meldungen/" + id(reps[0].ID)} {
		if resp, body := e.eva.do("GET", path, nil); resp.StatusCode != 403 || ruleOf(body) != "FORUM-MOD-SCOPE" {
			t.Errorf("GET %s: %s %q", path, resp.Status, ruleOf(body))
		}
	}
	for _, act := range []string{"schliessen", "weitergeben"} {
		if resp, body := e.eva.post("/forum/meldungen/"+id(reps[0].ID)+"/"+act, url.Values{}); resp.StatusCode != 403 || ruleOf(body) != "FORUM-MOD-SCOPE" {
			t.Errorf("%s 6b's report: %s %q", act, resp.Status, ruleOf(body))
		}
	}
	if _, body := e.eva.do("GET", "/forum/meldungen", nil); strings.Contains(body, "g:6b") || !strings.Contains(body, "g:5a") {
		t.Errorf("eva's report list: %s", body)
	}
	// A pupil does not moderate her own forum.
	if resp, body := e.max.post("/forum/g:5a/moderieren", url.Values{"act": {"hide"}, "id": {id(e.p5)}}); resp.StatusCode != 403 || ruleOf(body) != "FORUM-MOD-SCOPE" {
		t.Errorf("pupil hides: %s %q", resp.Status, ruleOf(body))
	}
	// 6b's post is as it was, and nothing of it was audited as done.
	p6, _ := e.st.ForumPost(e.p6)
	th6, _ := e.st.ForumThread(e.t6)
	if p6.Deleted || p6.Hidden || p6.Text != "Wer nimmt welches Thema?" || th6.Locked {
		t.Fatalf("6b changed: %+v %+v", p6, th6)
	}
	log, _ := e.st.AuditLog(time.Time{})
	for _, a := range log {
		if strings.HasPrefix(a.Action, "forum.") && strings.Contains(a.Target, "g:6b") {
			t.Errorf("audited as done in 6b: %+v", a)
		}
	}
	// Tom, 6b's teacher, may.
	if resp, body := e.tom.post("/forum/g:6b/moderieren", url.Values{"act": {"hide"}, "id": {id(e.p6)}, "reason": {"Prüfung"}}); resp.StatusCode != 303 {
		t.Fatalf("tom hides in 6b: %s %s", resp.Status, body)
	}
}

// TestForumModerationTombstoneNotice: a moderator deletes with a reason
// (tombstone with the reason, audit record, the author's INBOX notice),
// locks (replies refused with FORUM-LOCKED); quotes show the quoted post
// as it is now; unread marks; all text escaped.
func TestForumModerationTombstoneNotice(t *testing.T) {
	e := newForumEnv(t, nil)
	resp, body := e.eva.post("/forum/g:5a/thema/"+strconv.FormatUint(e.t5, 10)+"/antwort",
		url.Values{"text": {"Ins Museum. <script>alert(1)</script>"}, "quote": {strconv.FormatUint(e.p5, 10)}})
	if resp.StatusCode != 303 {
		t.Fatalf("reply: %s %s", resp.Status, body)
	}
	th, _ := e.st.ForumThread(e.t5)
	reply := th.LastPost
	// max sees the thread as unread, the reply as new, the quote
	_, body = e.max.do("GET", "/forum/g:5a", nil)
	if !strings.Contains(body, `class="thread unread"`) {
		t.Fatalf("no unread mark: %s", body)
	}
	_, body = e.max.do("GET", fmt.Sprintf("/forum/g:5a/thema/%d", e.t5), nil)
	if !strings.Contains(body, fmt.Sprintf(`class="post new" id="p%d"`, reply)) || !strings.Contains(body, `<blockquote class="quote"><span class="who">Max Müller</span>`) {
		t.Fatalf("thread page: %s", body)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatal("post text not escaped")
	}
	if _, body = e.max.do("GET", "/forum/g:5a", nil); strings.Contains(body, `class="thread unread"`) {
		t.Fatal("still unread after reading")
	}
	// eva deletes max's opening post
	inbox := func() uint32 {
		m, err := e.st.MailboxByName("max.mueller", store.Inbox)
		if err != nil {
			return 0
		}
		return m.Messages
	}
	before := inbox()
	if resp, body := e.eva.post("/forum/g:5a/moderieren", url.Values{"act": {"delete"}, "id": {strconv.FormatUint(e.p5, 10)}}); resp.StatusCode != 403 {
		t.Fatalf("delete without reason: %s %s", resp.Status, body)
	}
	if resp, body := e.eva.post("/forum/g:5a/moderieren", url.Values{"act": {"delete"}, "id": {strconv.FormatUint(e.p5, 10)}, "reason": {"Klassenfremde Daten"}}); resp.StatusCode != 303 {
		t.Fatalf("delete: %s %s", resp.Status, body)
	}
	if inbox() != before+1 {
		t.Fatalf("author not told: inbox %d → %d", before, inbox())
	}
	_, body = e.max.do("GET", fmt.Sprintf("/forum/g:5a/thema/%d", e.t5), nil)
	if !strings.Contains(body, `<span class="reason">Klassenfremde Daten</span>`) || strings.Contains(body, "Wohin fahren wir?") {
		t.Fatalf("tombstone: %s", body)
	}
	log, _ := e.st.AuditLog(time.Time{})
	found := false
	for _, a := range log {
		found = found || (a.Action == "forum.delete" && a.Actor == "eva.lang" && strings.Contains(a.Detail, "Klassenfremde Daten") && strings.Contains(a.Detail, "author told"))
	}
	if !found {
		t.Fatalf("no audit record: %+v", log)
	}
	// lock: no more replies
	if resp, _ := e.eva.post("/forum/g:5a/moderieren", url.Values{"act": {"lock"}, "id": {strconv.FormatUint(e.t5, 10)}}); resp.StatusCode != 303 {
		t.Fatalf("lock: %s", resp.Status)
	}
	if resp, body := e.max.post(fmt.Sprintf("/forum/g:5a/thema/%d/antwort", e.t5), url.Values{"text": {"noch was"}}); resp.StatusCode != 422 || ruleOf(body) != "FORUM-LOCKED" {
		t.Fatalf("reply to locked: %s %q", resp.Status, ruleOf(body))
	}
}

// TestForumBoundsAndLinks: LINK-BLOCK and the size, search and flood
// bounds of the forum, each refusal naming its bound.
func TestForumBoundsAndLinks(t *testing.T) {
	e := newForumEnv(t, nil)
	if _, err := e.st.AddBlockedDomains("boese.example"); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/forum/g:5a/thema/%d/antwort", e.t5)
	big := strings.Repeat("a", int(e.pol.Bound(policy.ForumPostBytes))+1)
	cases := []struct {
		name, path string
		form       url.Values
		want       string
	}{
		{"blocked link", path, url.Values{"text": {"schau mal https://www.boese.example/x"}}, "LINK-BLOCK"},
		{"post too long", path, url.Values{"text": {big}}, "(forum_post_bytes)"},
		{"title too long", "/forum/g:5a/neu", url.Values{"title": {strings.Repeat("t", int(e.pol.Bound(policy.ForumTitleBytes))+1)}, "text": {"x"}}, "(forum_title_bytes)"},
		{"empty", path, url.Values{"text": {"  "}}, "LIMIT-MESSAGE"},
	}
	for _, c := range cases {
		resp, body := e.max.post(c.path, c.form)
		if resp.StatusCode != 422 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %s, want %s", c.name, resp.Status, c.want)
		}
	}
	if resp, body := e.max.do("GET", "/forum/suche?q="+strings.Repeat("q", int(e.pol.Bound(policy.ForumSearchBytes))+1), nil); resp.StatusCode != 422 || !strings.Contains(body, "(forum_search_bytes)") {
		t.Errorf("long search: %s", resp.Status)
	}
	// flood: the bucket holds forum_posts_per_minute; newForumEnv used one of max's
	n := int(e.pol.Bound(policy.ForumPostsPerMinute))
	var last *http.Response
	var lastBody string
	for i := 0; i < n; i++ {
		last, lastBody = e.max.post(path, url.Values{"text": {fmt.Sprintf("Beitrag %d", i)}})
	}
	if last.StatusCode != 429 || !strings.Contains(lastBody, "(forum_posts_per_minute)") {
		t.Fatalf("flood: %s", last.Status)
	}
	e.advance(time.Minute)
	if resp, _ := e.max.post(path, url.Values{"text": {"nach einer Minute"}}); resp.StatusCode != 303 {
		t.Fatalf("after a minute: %s", resp.Status)
	}
}

// TestForumSearchReportsModules: search finds only what one may read;
// a report goes to the moderators, the admins see it once passed on; the
// module switch closes the forum per group.
func TestForumSearchReportsModules(t *testing.T) {
	e := newForumEnv(t, func(o *PortalOptions) {
		o.Modules = map[policy.Module]policy.ModuleSetting{}
		for _, m := range policy.Modules {
			o.Modules[m] = policy.ModuleSetting{On: true}
		}
		o.Modules[policy.ModuleForum] = policy.ModuleSetting{On: true, Groups: []string{"5a", "6b"}}
	})
	if _, body := e.max.do("GET", "/forum/suche?q=thema", nil); strings.Contains(body, "Referate") {
		t.Fatal("search shows 6b's thread to a 5a pupil")
	}
	if _, body := e.zoe.do("GET", "/forum/suche?q=THEMA", nil); !strings.Contains(body, "Referate") {
		t.Fatal("search misses own forum")
	}
	// report → moderators → admins
	adm := e.browser()
	adm.mustLogin(e.user("Ada", "Admin", policy.Admin, false))
	if resp, _ := e.zoe.post("/forum/g:6b/melden", url.Values{"post": {strconv.FormatUint(e.p6, 10)}, "reason": {"gemein"}}); resp.StatusCode != 303 {
		t.Fatal("report")
	}
	if _, body := adm.do("GET", "/meldungen", nil); strings.Contains(body, "forum:g:6b") {
		t.Fatal("admin sees a report the moderators have not passed on")
	}
	_, body := e.tom.do("GET", "/forum", nil)
	if !strings.Contains(body, `id="forum-report-count">1<`) {
		t.Fatalf("moderator's count: %s", body)
	}
	reps, _ := e.st.ForumReports(map[string]bool{"g:6b": true}, false)
	rid := strconv.FormatUint(reps[0].ID, 10)
	if _, body := e.tom.do("GET", "/forum/meldungen/"+rid, nil); !strings.Contains(body, "Wer nimmt welches Thema?") || !strings.Contains(body, "gemein") {
		t.Fatalf("moderator reads report: %s", body)
	}
	if resp, _ := e.tom.post("/forum/meldungen/"+rid+"/weitergeben", url.Values{"note": {"bitte ansehen"}}); resp.StatusCode != 303 {
		t.Fatal("escalate")
	}
	if _, body := adm.do("GET", "/meldungen", nil); !strings.Contains(body, "forum:g:6b") {
		t.Fatal("admin does not see the escalated report")
	}
	// the admin reads no group forum directly
	if resp, body := adm.do("GET", "/forum/g:6b", nil); resp.StatusCode != 403 || ruleOf(body) != "FORUM-MEMBER" {
		t.Fatalf("admin reads 6b: %s", resp.Status)
	}
	// module off for a group that is not listed
	other := e.browser()
	other.mustLogin(e.user("Ole", "Ohne", policy.Student, false, "7c"))
	if resp, body := other.do("GET", "/forum", nil); resp.StatusCode != 403 || ruleOf(body) != "MODULE-OFF" {
		t.Fatalf("module off: %s %q", resp.Status, ruleOf(body))
	}
	// the forum is under the e-mail rules: no communication consent, no forum
	if _, err := e.st.UpdateAccount("max.mueller", func(a *store.Account) error { a.ConsentComms = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.max.do("GET", "/forum/g:5a", nil); resp.StatusCode != 403 || ruleOf(body) != "CONSENT-COMMS" {
		t.Fatalf("without consent: %s %q", resp.Status, ruleOf(body))
	}
	if _, err := e.st.UpdateAccount("max.mueller", func(a *store.Account) error { a.ConsentComms = true; return nil }); err != nil {
		t.Fatal(err)
	}
	// a school-wide forum: everyone with the module reads it, admins moderate
	if _, err := e.st.CreateForum("schulhof", "Schulhof für alle", "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	tid := e.zoe.newThread("s:schulhof", "Flohmarkt", "Wer macht mit?")
	th, _ := e.st.ForumThread(tid)
	if _, body := e.max.do("GET", fmt.Sprintf("/forum/s:schulhof/thema/%d", tid), nil); !strings.Contains(body, "Wer macht mit?") {
		t.Fatal("school-wide forum not readable")
	}
	if resp, _ := adm.post("/forum/s:schulhof/moderieren", url.Values{"act": {"hide"}, "id": {strconv.FormatUint(th.LastPost, 10)}}); resp.StatusCode != 303 {
		t.Fatalf("admin moderates school-wide: %s", resp.Status)
	}
	if resp, body := e.eva.post("/forum/s:schulhof/moderieren", url.Values{"act": {"unhide"}, "id": {strconv.FormatUint(th.LastPost, 10)}}); resp.StatusCode != 403 || ruleOf(body) != "FORUM-MOD-SCOPE" {
		t.Fatalf("teacher moderates school-wide: %s", resp.Status)
	}
}
