package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// upload posts a multipart hand-in: the CSRF token first (as a browser
// sends the form's fields in order), then the file.
func (b *browser) upload(path, csrf, name string, content []byte) (*http.Response, string) {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		mw.WriteField("csrf", csrf)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	b.setOrigin(req)
	return b.send(req)
}

var taskRE = regexp.MustCompile(`^/hausaufgaben/(\d+)$`)

// TestHomeworkPortal: the whole round trip through the portal's forms,
// with every refusal on the way: HOMEWORK-PERIOD, HOMEWORK-ANNOUNCED, the
// text and attachment bounds, CSRF on the upload and the feedback,
// SIZE-20MB and the file bound on hand-ins, a late hand-in marked, one
// pupil never reaching another's file, the feedback escaped.
func TestHomeworkPortal(t *testing.T) {
	e := newPortalEnv(t, nil)
	// Monday 30 November 2026, 10:00 local time.
	e.now = time.Date(2026, 11, 30, 10, 0, 0, 0, time.Local)
	eva := e.user("Eva", "Lang", policy.Teacher, false, "5a")
	maxN := e.user("Max", "Müller", policy.Student, false, "5a")
	zoe := e.user("Zoë", "Groß", policy.Student, false, "5a")
	pb, _ := e.st.WriteContent(strings.NewReader("Arbeitsblatt Brüche"), -1)
	if _, _, err := e.st.FilePut(store.HomeTree(eva), "/blatt.txt", store.PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, ModTime: e.now, Limits: store.NoLimits()}); err != nil {
		t.Fatal(err)
	}
	pb.Release()

	if _, err := e.st.AddBlockedDomains("boese.example"); err != nil {
		t.Fatal(err)
	}
	tb := e.browser()
	tb.mustLogin(eva)
	tok := tb.csrf("/hausaufgaben/neu")
	form := func(mod func(url.Values)) url.Values {
		f := url.Values{"csrf": {tok}, "group": {"5a"}, "title": {"Brüche"}, "text": {"S. 12, Nr. 3\r\n<b>fett</b>"},
			"due": {"2026-12-02T08:00"}, "announced": {"1"}, "attach": {"/blatt.txt"}}
		if mod != nil {
			mod(f)
		}
		return f
	}
	for _, c := range []struct {
		name string
		mod  func(url.Values)
		want string
	}{
		{"Mon to Tue", func(f url.Values) { f.Set("due", "2026-12-01T23:00") }, "[HOMEWORK-PERIOD]"},
		{"past", func(f url.Values) { f.Set("due", "2026-11-29T08:00") }, "[HOMEWORK-PERIOD]"},
		{"no date", func(f url.Values) { f.Set("due", "") }, "[HOMEWORK-PERIOD]"},
		{"not announced", func(f url.Values) { f.Del("announced") }, "[HOMEWORK-ANNOUNCED]"},
		{"long title", func(f url.Values) { f.Set("title", strings.Repeat("t", int(e.pol.Bound(policy.HomeworkTitleBytes))+1)) }, "(homework_title_bytes)"},
		{"empty title", func(f url.Values) { f.Set("title", " ") }, "[LIMIT-MESSAGE]"},
		{"long text", func(f url.Values) { f.Set("text", strings.Repeat("x", int(e.pol.Bound(policy.HomeworkTextBytes))+1)) }, "(homework_text_bytes)"},
		{"attachments", func(f url.Values) {
			f["attach"] = strings.Split(strings.Repeat("/blatt.txt,", int(e.pol.Bound(policy.HomeworkAttachments))+1), ",")[:e.pol.Bound(policy.HomeworkAttachments)+1]
		}, "(homework_attachments)"},
		{"another group", func(f url.Values) { f.Set("group", "5b") }, "[ROLE-REQUIRED]"},
		{"blocked link", func(f url.Values) { f.Set("text", "Siehe https://www.boese.example/loesungen") }, "[LINK-BLOCK]"},
	} {
		resp, body := tb.do("POST", "/hausaufgaben/neu", form(c.mod))
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, c.want) {
			t.Errorf("%s: %v, want %s in %s", c.name, resp.Status, c.want, body)
		}
	}
	if ts, _ := e.st.TasksOf([]string{"5a"}); len(ts) != 0 {
		t.Fatalf("a refused form set a task: %+v", ts)
	}
	if resp, _ := tb.do("POST", "/hausaufgaben/neu", form(func(f url.Values) { f.Del("csrf") })); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("task without token: %v", resp.Status)
	}
	resp, _ := tb.do("POST", "/hausaufgaben/neu", form(nil))
	m := taskRE.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("set task: %v %s", resp.Status, resp.Header.Get("Location"))
	}
	taskURL := m[0]
	if ts, _ := e.st.TasksOf([]string{"5a"}); len(ts) != 1 || ts[0].Text != "S. 12, Nr. 3\n<b>fett</b>" || !ts[0].Announced || ts[0].Creator != eva {
		t.Fatalf("stored task: %+v", ts)
	}

	// The due time is in the group's calendar, read-only, linking to the
	// task; another group's calendar does not have it.
	_, body := tb.do("GET", "/kalender/5a?ansicht=woche&datum=2026-12-02", nil)
	if !strings.Contains(body, "Abgabe: Brüche") || !strings.Contains(body, `href="`+taskURL+`"`) {
		t.Fatalf("task not in the group calendar: %s", body)
	}
	items, err := e.srv.Calendar().Provided("5b", time.Time{}, time.Time{})
	if err != nil || len(items) != 0 {
		t.Fatalf("5b's calendar: %+v %v", items, err)
	}
	items, _ = e.srv.Calendar().Provided("5a", time.Date(2026, 12, 3, 0, 0, 0, 0, time.Local), time.Time{})
	if len(items) != 0 {
		t.Fatalf("an item after its due date: %+v", items)
	}

	// A pupil cannot set tasks.
	pb1 := e.browser()
	pb1.mustLogin(maxN)
	if resp, _ := pb1.do("GET", "/hausaufgaben/neu", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("pupil's task form: %v", resp.Status)
	}
	ptok := pb1.csrf("/hausaufgaben")
	if resp, _ := pb1.do("POST", "/hausaufgaben/neu", form(func(f url.Values) { f.Set("csrf", ptok) })); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("pupil set a task: %v", resp.Status)
	}
	_, body = pb1.do("GET", "/hausaufgaben", nil)
	if !strings.Contains(body, "Brüche") || !strings.Contains(body, "bald fällig") {
		t.Fatalf("pupil's list: %s", body)
	}
	_, body = pb1.do("GET", taskURL, nil)
	if !strings.Contains(body, "&lt;b&gt;fett&lt;/b&gt;") || strings.Contains(body, "<b>fett") || !strings.Contains(body, "blatt.txt") {
		t.Fatalf("task page: %s", body)
	}
	if resp, body := pb1.do("GET", taskURL+"/anhang/0", nil); resp.StatusCode != 200 || body != "Arbeitsblatt Brüche" {
		t.Fatalf("attachment: %v %q", resp.Status, body)
	}
	utok := pb1.csrf(taskURL)
	if resp, _ := pb1.upload(taskURL+"/abgeben", "", "a.txt", []byte("x")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("upload without token: %v", resp.Status)
	}
	if resp, _ := pb1.upload(taskURL+"/abgeben", "forged", "a.txt", []byte("x")); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("upload with a forged token: %v", resp.Status)
	}
	e.pol.MaxTransferBytes = 1000
	if resp, body := pb1.upload(taskURL+"/abgeben", utok, "gross.bin", bytes.Repeat([]byte("g"), 1001)); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "[SIZE-20MB]") {
		t.Fatalf("upload over the size limit: %v %s", resp.Status, body)
	}
	if resp, _ := pb1.upload(taskURL+"/abgeben", utok, `..\..\loesung.txt`, []byte("MAX-LOESUNG")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("hand in: %v", resp.Status)
	}
	e.pol.SetBound(policy.HandinFiles, 1)
	if resp, body := pb1.upload(taskURL+"/abgeben", utok, "zwei.txt", []byte("2")); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "(homework_handin_files)") {
		t.Fatalf("second file with a bound of one: %v %s", resp.Status, body)
	}
	e.pol.SetBound(policy.HandinFiles, 20)
	_, body = pb1.do("GET", taskURL, nil)
	if !strings.Contains(body, "loesung.txt") || !strings.Contains(body, ">abgegeben<") {
		t.Fatalf("pupil's hand-in: %s", body)
	}

	// Zoë hands in late: marked, not refused.
	e.advance(72 * time.Hour)
	pb1.mustLogin(maxN) // the sessions ended while idle
	tb.mustLogin(eva)
	utok = pb1.csrf(taskURL)
	zb := e.browser()
	zb.mustLogin(zoe)
	if _, body := zb.do("GET", "/hausaufgaben", nil); !strings.Contains(body, "überfällig") {
		t.Fatalf("zoë's list after the due date: %s", body)
	}
	if resp, _ := zb.upload(taskURL+"/abgeben", zb.csrf(taskURL), "zoe.txt", []byte("ZOE-SPAET")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("late hand-in: %v", resp.Status)
	}
	if _, body := zb.do("GET", taskURL, nil); !strings.Contains(body, "verspätet abgegeben") {
		t.Fatalf("late hand-in not marked: %s", body)
	}
	// Neither pupil reaches the other's file.
	for _, c := range []struct {
		b    *browser
		path string
	}{{zb, taskURL + "/abgabe/" + maxN + "/0"}, {pb1, taskURL + "/abgabe/" + zoe + "/0"}, {pb1, taskURL + "/abgabe/" + zoe + "/-1"}} {
		if resp, body := c.b.do("GET", c.path, nil); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "SPAET") || strings.Contains(body, "LOESUNG") {
			t.Errorf("GET %s: %v", c.path, resp.Status)
		}
	}
	if resp, body := zb.do("GET", taskURL+"/abgabe/"+zoe+"/0", nil); resp.StatusCode != 200 || body != "ZOE-SPAET" {
		t.Fatalf("zoë's own file: %v %q", resp.Status, body)
	}

	// The teacher sees both, one late, and gives feedback.
	_, body = tb.do("GET", taskURL, nil)
	if !strings.Contains(body, "2 von 2 abgegeben") || strings.Count(body, "verspätet") != 1 {
		t.Fatalf("teacher's view: %s", body)
	}
	if resp, body := tb.do("GET", taskURL+"/abgabe/"+zoe+"/0", nil); resp.StatusCode != 200 || body != "ZOE-SPAET" {
		t.Fatalf("teacher reads zoë's file: %v %q", resp.Status, body)
	}
	ftok := tb.csrf(taskURL)
	fb := func(pupil, text, tk string) (*http.Response, string) {
		return tb.do("POST", taskURL+"/rueckmeldung", url.Values{"csrf": {tk}, "pupil": {pupil}, "feedback": {text}})
	}
	if resp, _ := fb(maxN, "x", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("feedback without token: %v", resp.Status)
	}
	if resp, body := fb(maxN, strings.Repeat("f", int(e.pol.Bound(policy.HomeworkFeedbackBytes))+1), ftok); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "(homework_feedback_bytes)") {
		t.Fatalf("long feedback: %v %s", resp.Status, body)
	}
	if resp, body := fb(maxN, "Lösungen: https://boese.example/x", ftok); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[LINK-BLOCK]") {
		t.Fatalf("feedback with a blocked link: %v %s", resp.Status, body)
	}
	if resp, _ := fb(eva, "selbst", ftok); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("feedback to the teacher herself: %v", resp.Status)
	}
	if resp, _ := fb(maxN, "Gut gemacht, <script>alert(1)</script>", ftok); resp.StatusCode != 200 {
		t.Fatalf("feedback: %v", resp.Status)
	}
	if resp, _ := pb1.do("POST", taskURL+"/rueckmeldung", url.Values{"csrf": {utok}, "pupil": {zoe}, "feedback": {"von Max"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a pupil gave feedback: %v", resp.Status)
	}
	_, body = pb1.do("GET", taskURL, nil)
	if !strings.Contains(body, "Gut gemacht, &lt;script&gt;") || strings.Contains(body, "<script>alert") {
		t.Fatalf("max's feedback: %s", body)
	}
	if _, body := zb.do("GET", taskURL, nil); strings.Contains(body, "Gut gemacht") {
		t.Fatal("zoë sees max's feedback")
	}
	// Someone outside 5a: no such task.
	other := e.user("Otto", "O", policy.Student, false, "5b")
	ob := e.browser()
	ob.mustLogin(other)
	for _, p := range []string{taskURL, taskURL + "/anhang/0", taskURL + "/abgabe/" + maxN + "/0"} {
		if resp, _ := ob.do("GET", p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("outsider GET %s: %v", p, resp.Status)
		}
	}
	if _, body := ob.do("GET", "/hausaufgaben", nil); strings.Contains(body, "Brüche") {
		t.Fatal("outsider lists 5a's task")
	}
}

// TestHomeworkModuleOff: with the module off the pages answer MODULE-OFF,
// the start page does not offer it and the calendar has no due dates;
// switched on for 5b only, 5a's calendar has none either.
func TestHomeworkModuleOff(t *testing.T) {
	e := newPortalEnv(t, func(o *PortalOptions) {
		o.Modules = map[policy.Module]policy.ModuleSetting{policy.ModuleHomework: {On: false}}
	})
	eva := e.user("Eva", "Lang", policy.Teacher, false, "5a")
	now := time.Now()
	if _, err := e.st.CreateTask(store.Task{Group: "5a", Title: "T", Creator: eva, Created: now, Due: now.Add(96 * time.Hour), Announced: true}, nil); err != nil {
		t.Fatal(err)
	}
	if items, err := e.srv.Calendar().Provided("5a", time.Time{}, time.Time{}); err != nil || len(items) != 0 {
		t.Fatalf("calendar items with homework off: %+v %v", items, err)
	}
	b := e.browser()
	b.mustLogin(eva)
	if _, body := b.do("GET", "/", nil); strings.Contains(body, `href="/hausaufgaben"`) {
		t.Fatal("homework offered while off")
	}
	for _, p := range []string{"/hausaufgaben", "/hausaufgaben/neu", "/hausaufgaben/1"} {
		if resp, body := b.do("GET", p, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "[MODULE-OFF]") {
			t.Errorf("GET %s: %v", p, resp.Status)
		}
	}
}

func TestHomeworkCalendarPerGroupModule(t *testing.T) {
	e := newPortalEnv(t, func(o *PortalOptions) {
		o.Modules = map[policy.Module]policy.ModuleSetting{policy.ModuleHomework: {On: true, Groups: []string{"5b"}},
			policy.ModuleCalendar: {On: true}}
	})
	eva := e.user("Eva", "Lang", policy.Teacher, false, "5a", "5b")
	now := time.Now()
	for _, g := range []string{"5a", "5b"} {
		if _, err := e.st.CreateTask(store.Task{Group: g, Title: "T " + g, Creator: eva, Created: now, Due: now.Add(96 * time.Hour), Announced: true}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if items, _ := e.srv.Calendar().Provided("5a", time.Time{}, time.Time{}); len(items) != 0 {
		t.Fatalf("5a has homework off: %+v", items)
	}
	if items, _ := e.srv.Calendar().Provided("5b", time.Time{}, time.Time{}); len(items) != 1 || items[0].Title != "Abgabe: T 5b" || items[0].Link == "" {
		t.Fatalf("5b's due date: %+v", items)
	}
}
