package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"schulhof/policy"
	"schulhof/store"
)

func roomIDs(m map[string]any) []string {
	var out []string
	rs, _ := m["rooms"].([]any)
	for _, r := range rs {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

func TestChatOriginAndCookie(t *testing.T) {
	e := newPortalEnv(t, nil)
	name := e.user("Max", "Müller", policy.Student, false, "5a")
	b := e.browser()
	b.mustLogin(name)
	for _, o := range []string{"https://evil.example", "", "null", "http://" + e.host + ".evil.example"} {
		b.origin = o
		if _, resp, err := b.dial(); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v %v", o, err, resp)
		}
	}
	b.origin = e.base
	anon := e.browser()
	if _, resp, err := anon.dial(); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no cookie: %v", err)
	}
	w := b.mustDial()
	if ids := roomIDs(w.next("rooms")); len(ids) != 1 || ids[0] != "g:5a" {
		t.Fatalf("rooms: %v", ids)
	}
}

func TestChatRoomDeliveryHistoryAndResume(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	zoe := e.user("Zoe", "Groß", policy.Student, false, "5a")
	bm, bz := e.browser(), e.browser()
	bm.mustLogin(max)
	bz.mustLogin(zoe)
	wm, wz := bm.mustDial(), bz.mustDial()
	wm.next("rooms")
	wz.next("rooms")
	wm.send(map[string]any{"t": "send", "room": "g:5a", "text": "Hallo 5a", "ref": "1"})
	if a := wm.next("ack"); a["t"] != "ack" || a["seq"] != float64(1) {
		t.Fatalf("ack: %v", a)
	}
	m := wz.next("msg")["msg"].(map[string]any)
	if m["text"] != "Hallo 5a" || m["author"] != max || m["name"] != "Max Müller" {
		t.Fatalf("delivered: %v", m)
	}
	// zoe goes away; three messages later she resumes from seq 1
	wz.c.CloseNow()
	for _, txt := range []string{"zwei", "drei", "vier"} {
		wm.send(map[string]any{"t": "send", "room": "g:5a", "text": txt, "ref": txt})
		wm.next("ack")
	}
	wz = bz.mustDial()
	r := wz.next("rooms")["rooms"].([]any)[0].(map[string]any)
	if r["unread"] != float64(4) || r["seq"] != float64(4) {
		t.Fatalf("unread: %v", r)
	}
	wz.send(map[string]any{"t": "sync", "room": "g:5a", "after": 1})
	got := wz.next("msgs")["msgs"].([]any)
	if len(got) != 3 || got[0].(map[string]any)["text"] != "zwei" {
		t.Fatalf("resume: %v", got)
	}
	// history backwards
	wz.send(map[string]any{"t": "hist", "room": "g:5a", "before": 3})
	h := wz.next("msgs")
	if hm := h["msgs"].([]any); len(hm) != 2 || hm[0].(map[string]any)["seq"] != float64(1) || h["hist"] != true {
		t.Fatalf("history: %v", h)
	}
	// edit: only the author; delete: author or the room's teacher; tombstones
	wz.send(map[string]any{"t": "edit", "room": "g:5a", "seq": 2, "text": "fremd", "ref": "e"})
	if a := wz.next("ack"); a["rule"] != string(policy.ChatOwn) {
		t.Fatalf("edit of another's message: %v", a)
	}
	wz.send(map[string]any{"t": "del", "room": "g:5a", "seq": 2, "ref": "d"})
	if a := wz.next("ack"); a["rule"] != string(policy.ChatOwn) {
		t.Fatalf("delete of another's message: %v", a)
	}
	wm.send(map[string]any{"t": "edit", "room": "g:5a", "seq": 2, "text": "zwei!", "ref": "e2"})
	wm.next("ack")
	if m := wz.nextMsg(2); m["edited"] != true || m["text"] != "zwei!" {
		t.Fatalf("edit fan-out: %v", m)
	}
	teacher := e.user("Eva", "Lang", policy.Teacher, false, "5a")
	bt := e.browser()
	bt.mustLogin(teacher)
	wt := bt.mustDial()
	if r := wt.next("rooms")["rooms"].([]any)[0].(map[string]any); r["teacher"] != true {
		t.Fatalf("teacher flag: %v", r)
	}
	wt.send(map[string]any{"t": "del", "room": "g:5a", "seq": 3, "ref": "td"})
	if a := wt.next("ack"); a["t"] != "ack" {
		t.Fatalf("teacher delete: %v", a)
	}
	if m := wz.nextMsg(3); m["deleted"] != true || m["text"] != nil {
		t.Fatalf("tombstone: %v", m)
	}
	// search with context, only in own rooms
	wz.send(map[string]any{"t": "search", "text": "DREI"})
	if hits, _ := wz.next("found")["hits"].([]any); len(hits) != 0 {
		t.Fatalf("search finds a deleted message: %v", hits)
	}
	wz.send(map[string]any{"t": "search", "text": "vier"})
	hits := wz.next("found")["hits"].([]any)
	if len(hits) != 1 || hits[0].(map[string]any)["before"] == nil {
		t.Fatalf("search: %v", hits)
	}
}

func TestChatNonMemberAndAdminCannotRead(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	e.user("Ben", "Berg", policy.Student, false, "5b")
	adm := e.user("Ada", "Admin", policy.Admin, false)
	e.st.PostMessage("g:5b", "ben.berg", "nur für 5b", time.Now(), nil)
	e.st.OpenDirectRoom(store.DirectRoomID("ben.berg", "zz.top"))
	bm, ba := e.browser(), e.browser()
	bm.mustLogin(max)
	ba.mustLogin(adm)
	for _, w := range []*ws{bm.mustDial(), ba.mustDial()} {
		w.next("rooms")
		for _, room := range []string{"g:5b", "d:ben.berg:max.mueller", "d:ben.berg:zz.top", "x", "g:"} {
			for _, op := range []map[string]any{
				{"t": "hist", "room": room, "ref": "h"},
				{"t": "sync", "room": room, "after": 0, "ref": "s"},
				{"t": "send", "room": room, "text": "rein", "ref": "p"},
				{"t": "report", "room": room, "seq": 1, "text": "x", "ref": "r"},
			} {
				w.send(op)
				a := w.next("ack")
				if a["t"] != "err" {
					t.Fatalf("%v in %s: %v", op["t"], room, a)
				}
			}
		}
	}
	// the admin's refusal names CHAT-READ-REPORTED
	wa := ba.mustDial()
	wa.next("rooms")
	wa.send(map[string]any{"t": "hist", "room": "g:5b", "ref": "h"})
	if a := wa.next("ack"); a["rule"] != string(policy.ChatReadReported) {
		t.Fatalf("admin: %v", a)
	}
	if h, _, _ := e.st.History("g:5b", 0, 10); len(h) != 1 {
		t.Fatalf("a refused send was stored: %v", h)
	}
}

func TestChatDirectRules(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	zoe := e.user("Zoe", "Groß", policy.Student, false, "5a")
	ben := e.user("Ben", "Berg", policy.Student, false, "5b")
	eva := e.user("Eva", "Lang", policy.Teacher, false)
	bm, bz, bb, be := e.browser(), e.browser(), e.browser(), e.browser()
	bm.mustLogin(max)
	bz.mustLogin(zoe)
	bb.mustLogin(ben)
	be.mustLogin(eva)
	wm, wz, wb, we := bm.mustDial(), bz.mustDial(), bb.mustDial(), be.mustDial()
	for _, w := range []*ws{wm, wz, wb, we} {
		w.next("rooms")
	}
	wm.send(map[string]any{"t": "dm", "to": ben, "ref": "1"})
	if a := wm.next("ack"); a["rule"] != string(policy.ChatDirect) {
		t.Fatalf("student to a student of another class: %v", a)
	}
	wm.send(map[string]any{"t": "dm", "to": "nobody.here", "ref": "2"})
	if a := wm.next("ack"); a["rule"] != string(policy.ChatDirect) {
		t.Fatalf("to nobody: %v", a)
	}
	wm.send(map[string]any{"t": "dm", "to": zoe, "ref": "3"})
	a := wm.next("ack")
	room, _ := a["room"].(string)
	if room != store.DirectRoomID(max, zoe) {
		t.Fatalf("classmate: %v", a)
	}
	// zoe's open connection gets the room at once
	for {
		if ids := roomIDs(wz.next("rooms")); strings.Contains(strings.Join(ids, " "), room) {
			break
		}
	}
	wm.send(map[string]any{"t": "send", "room": room, "text": "psst", "ref": "4"})
	wm.next("ack")
	if m := wz.next("msg"); m["room"] != room {
		t.Fatalf("direct delivery: %v", m)
	}
	// a teacher writes to anyone; the student may answer
	we.send(map[string]any{"t": "dm", "to": ben, "ref": "5"})
	if a := we.next("ack"); a["t"] != "ack" {
		t.Fatalf("teacher: %v", a)
	}
	wb.send(map[string]any{"t": "dm", "to": eva, "ref": "6"})
	if a := wb.next("ack"); a["t"] != "ack" {
		t.Fatalf("answering a teacher: %v", a)
	}
}

func TestChatLimits(t *testing.T) {
	e := newPortalEnv(t, nil)
	e.pol.SetBound(policy.ChatMessagesPerMinute, 3)
	e.st.AddBlockedDomains("tiktok.com")
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	b := e.browser()
	b.mustLogin(max)
	w := b.mustDial()
	w.next("rooms")
	cases := []struct {
		text string
		rule policy.Rule
	}{
		{strings.Repeat("ä", 2049), policy.LimitMessage}, // 4098 bytes
		{strings.Repeat("x", int(e.pol.Bound(policy.ChatMessageBytes))+1), policy.LimitMessage},
		{"   ", policy.LimitMessage},
		{"schau mal https://www.TikTok.com/@x", policy.LinkBlock},
	}
	for _, c := range cases {
		w.send(map[string]any{"t": "send", "room": "g:5a", "text": c.text, "ref": "x"})
		if a := w.next("ack"); a["rule"] != string(c.rule) || !strings.Contains(a["reason"].(string), "") {
			t.Errorf("%.20q: %v", c.text, a)
		}
	}
	for i := 0; i < 3; i++ {
		w.send(map[string]any{"t": "send", "room": "g:5a", "text": "ok", "ref": "f"})
		if a := w.next("ack"); a["t"] != "ack" {
			t.Fatalf("message %d: %v", i, a)
		}
	}
	w.send(map[string]any{"t": "send", "room": "g:5a", "text": "eins zu viel", "ref": "f"})
	if a := w.next("ack"); a["rule"] != string(policy.LimitFlood) || !strings.Contains(a["reason"].(string), "chat_messages_per_minute") {
		t.Fatalf("flood: %v", a)
	}
	if h, _, _ := e.st.History("g:5a", 0, 100); len(h) != 3 {
		t.Fatalf("stored: %d", len(h))
	}
	// a frame over the frame bound ends the connection with 1009
	w.send(map[string]any{"t": "search", "text": strings.Repeat("x", int(e.pol.Bound(policy.ChatSearchBytes))+1), "ref": "s"})
	if a := w.next("ack"); a["rule"] != string(policy.LimitMessage) {
		t.Fatalf("long search: %v", a)
	}
	w.send(map[string]any{"t": "send", "room": "g:5a", "text": strings.Repeat("x", int(e.pol.Bound(policy.ChatFrameBytes)))})
	if code, ok := w.closed(5 * time.Second); !ok || code != websocket.StatusMessageTooBig {
		t.Fatalf("oversize frame: %v %v", code, ok)
	}
}

func TestChatEndsWithinASecond(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	zoe := e.user("Zoe", "Groß", policy.Student, false, "5a")
	bm, bz := e.browser(), e.browser()
	bm.mustLogin(max)
	bz.mustLogin(zoe)
	w1, w2, wz := bm.mustDial(), bm.mustDial(), bz.mustDial()
	w1.next("rooms")
	w2.next("rooms")
	wz.next("rooms")
	if err := e.svc.Lock("test", max, "Test"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*ws{w1, w2} {
		if code, ok := w.closed(time.Second); !ok || code != websocket.StatusPolicyViolation {
			t.Fatalf("locked account's socket: %v %v", code, ok)
		}
	}
	// others stay
	if _, ok := wz.closed(100 * time.Millisecond); ok {
		t.Fatal("another account's socket closed")
	}
	// leaving the class loses the room at once
	e.svc.ChangeMembers("test", "5a", store.AsMember, false, []string{zoe})
	if ids := roomIDs(wz.next("rooms")); len(ids) != 0 {
		t.Fatalf("rooms after leaving: %v", ids)
	}
	wz.send(map[string]any{"t": "send", "room": "g:5a", "text": "noch da?", "ref": "x"})
	if a := wz.next("ack"); a["rule"] != string(policy.ChatMember) {
		t.Fatalf("send after leaving: %v", a)
	}
	// log out everywhere ends the socket too
	wz2 := bz.mustDial()
	wz2.next("rooms")
	e.st.DeleteSessionsOf(zoe, "")
	if _, ok := wz2.closed(time.Second); !ok {
		t.Fatal("socket survived the end of its session")
	}
}

func TestChatXSSStaysText(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	evil := `<img src=x onerror=alert(1)>`
	e.st.UpdateAccount(max, func(a *store.Account) error { a.Nickname = evil; return nil })
	b := e.browser()
	b.mustLogin(max)
	w := b.mustDial()
	w.next("rooms")
	w.send(map[string]any{"t": "send", "room": "g:5a", "text": evil, "ref": "1"})
	m := w.next("msg")["msg"].(map[string]any)
	// JSON carries the text unchanged; chat.js shows it with textContent only
	if m["text"] != evil || m["name"] != evil {
		t.Fatalf("%v", m)
	}
	js, _ := staticFS.ReadFile("static/chat.js")
	if strings.Contains(string(js), "innerHTML") || strings.Contains(string(js), "insertAdjacentHTML") {
		t.Fatal("chat.js writes HTML")
	}
}

func TestReportNotifiesAdmins(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	zoe := e.user("Zoe", "Groß", policy.Student, false, "5a")
	adm := e.user("Ada", "Admin", policy.Admin, false)
	bm, bz, ba := e.browser(), e.browser(), e.browser()
	bm.mustLogin(max)
	bz.mustLogin(zoe)
	ba.mustLogin(adm)
	wm, wz, wa := bm.mustDial(), bz.mustDial(), ba.mustDial()
	wm.next("rooms")
	wz.next("rooms")
	if n := wa.next("reports")["open"]; n != float64(0) {
		t.Fatal(n)
	}
	wm.send(map[string]any{"t": "send", "room": "g:5a", "text": "gemein", "ref": "1"})
	wm.next("ack")
	wz.send(map[string]any{"t": "report", "room": "g:5a", "seq": 1, "text": strings.Repeat("x", int(e.pol.Bound(policy.ChatReportReasonBytes))+1), "ref": "r0"})
	if a := wz.next("ack"); a["rule"] != string(policy.LimitMessage) {
		t.Fatalf("long reason: %v", a)
	}
	wz.send(map[string]any{"t": "report", "room": "g:5a", "seq": 1, "text": "beleidigend", "ref": "r"})
	if a := wz.next("ack"); a["report"] != float64(1) {
		t.Fatalf("report: %v", a)
	}
	if n := wa.next("reports")["open"]; n != float64(1) {
		t.Fatalf("admin not told: %v", n)
	}
}

func TestChatEndsOnDeleteAndPasswordReset(t *testing.T) {
	e := newPortalEnv(t, nil)
	max := e.user("Max", "Müller", policy.Student, false, "5a")
	zoe := e.user("Zoe", "Groß", policy.Student, false, "5a")
	bm, bz := e.browser(), e.browser()
	bm.mustLogin(max)
	bz.mustLogin(zoe)
	wm, wz := bm.mustDial(), bz.mustDial()
	wm.next("rooms")
	wz.next("rooms")
	if _, err := e.svc.ResetPassword("test", max); err != nil {
		t.Fatal(err)
	}
	if _, ok := wm.closed(time.Second); !ok {
		t.Fatal("socket survived an admin password reset")
	}
	if _, err := e.svc.DeleteUser("test", zoe); err != nil {
		t.Fatal(err)
	}
	if _, ok := wz.closed(time.Second); !ok {
		t.Fatal("socket survived the deletion of its account")
	}
}
