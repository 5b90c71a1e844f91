package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestForumPostsModerationErasure: threads and replies in two group
// forums, a reply and a moderation that name the wrong forum are refused
// by what the store hands the check, deletion keeps a tombstone with the
// reason, erasure leaves tombstones without name, export lists the posts.
func TestForumPostsModerationErasure(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	for _, n := range []string{"anna.berg", "eva.lang"} {
		if _, err := s.CreateAccount(Account{First: "X", Last: "Y", Role: "student"}, cand(n)); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []string{"5a", "6b"} {
		if err := s.CreateGroup(Group{Name: g, Kind: "class"}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	th5, p1, err := s.NewThread(GroupForumID("5a"), "anna.berg", "Ausflug", "Wohin gehen wir?", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	th6, p6, err := s.NewThread(GroupForumID("6b"), "eva.lang", "Referate", "Themenliste", now.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := s.Reply(GroupForumID("5a"), th5.ID, "eva.lang", "Zoo!", p1.ID, now.Add(2*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	// 6b's thread ID in 5a's form: not found in 5a.
	if _, err := s.Reply(GroupForumID("5a"), th6.ID, "anna.berg", "x", 0, now, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reply to 6b's thread through 5a: %v", err)
	}
	// quoting a post of another thread
	if _, err := s.Reply(GroupForumID("5a"), th5.ID, "anna.berg", "x", p6.ID, now, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("quote across threads: %v", err)
	}
	// moderation: the check sees the item's real forum
	var seen string
	refuse := errors.New("refused")
	_, err = s.Moderate(ForumModeration{Forum: GroupForumID("5a"), Act: "delete", ID: p6.ID, Actor: "eva.lang", At: now,
		Check: func(_ *Tx, named *Forum, item string) error {
			seen = item
			if item != named.ID {
				return refuse
			}
			return nil
		}})
	if !errors.Is(err, refuse) || seen != GroupForumID("6b") {
		t.Fatalf("6b's post through 5a: %v (item forum %q)", err, seen)
	}
	if p, _ := s.ForumPost(p6.ID); p.Deleted || p.Text != "Themenliste" {
		t.Fatalf("6b's post changed: %+v", p)
	}
	ok := func(_ *Tx, named *Forum, item string) error { return nil }
	if _, err := s.Moderate(ForumModeration{Forum: GroupForumID("5a"), Act: "delete", ID: r1.ID, Actor: "lehrer", Reason: "Beleidigung", At: now, Check: ok}); err != nil {
		t.Fatal(err)
	}
	posts, quoted, err := s.ThreadPosts(th5.ID, 0, 50)
	if err != nil || len(posts) != 2 {
		t.Fatalf("posts: %v %d", err, len(posts))
	}
	if d := posts[1]; !d.Deleted || d.Text != "" || d.Reason != "Beleidigung" || d.Author != "eva.lang" {
		t.Fatalf("tombstone: %+v", d)
	}
	if quoted[p1.ID].Text != "Wohin gehen wir?" {
		t.Fatalf("quoted: %+v", quoted)
	}
	if _, err := s.Moderate(ForumModeration{Forum: GroupForumID("5a"), Act: "lock", ID: th5.ID, Actor: "lehrer", At: now, Check: ok}); err != nil {
		t.Fatal(err)
	}
	if th, _ := s.ForumThread(th5.ID); !th.Locked {
		t.Fatal("not locked")
	}
	log, _ := s.AuditLog(time.Time{})
	var acts []string
	for _, a := range log {
		acts = append(acts, a.Action+" "+a.Target)
	}
	if j := strings.Join(acts, "|"); !strings.Contains(j, "forum.delete g:5a post 3") || !strings.Contains(j, "forum.lock g:5a thread 1") {
		t.Fatalf("audit: %s", j)
	}
	// listing: 6b's thread is not in 5a's list
	list, err := s.ForumThreads(GroupForumID("5a"), 0, 10)
	if err != nil || len(list) != 1 || list[0].ID != th5.ID || list[0].Posts != 2 {
		t.Fatalf("list 5a: %v %+v", err, list)
	}
	if hits, _ := s.SearchForums([]string{GroupForumID("5a")}, "themen", 10, 1000); len(hits) != 0 {
		t.Fatalf("search found 6b's post in 5a: %+v", hits)
	}
	if hits, _ := s.SearchForums([]string{GroupForumID("5a"), GroupForumID("6b")}, "THEMEN", 10, 1000); len(hits) != 1 {
		t.Fatalf("search: %+v", hits)
	}

	// export, then erase anna
	sink := memSink{}
	if err := privacyExporters["forum"](s, "anna.berg", sink); err != nil {
		t.Fatal(err)
	}
	var exp []map[string]any
	if err := json.Unmarshal(sink["forum.json"].Bytes(), &exp); err != nil || len(exp) != 1 || exp[0]["text"] != "Wohin gehen wir?" {
		t.Fatalf("export: %v %s", err, sink["forum.json"])
	}
	if err := s.MarkThreadRead("anna.berg", th5.ID, r1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EraseAccount("anna.berg", ErasePlatform); err != nil {
		t.Fatal(err)
	}
	posts, _, _ = s.ThreadPosts(th5.ID, 0, 50)
	if p := posts[0]; p.Author != "" || p.Text != "" || !p.Deleted {
		t.Fatalf("erased post: %+v", p)
	}
	if th, _ := s.ForumThread(th5.ID); th.Author != "" || th.Title != "" {
		t.Fatalf("erased thread: %+v", th)
	}
	if m, _ := s.ThreadReadMarks("anna.berg", []uint64{th5.ID}); len(m) != 0 {
		t.Fatalf("read marks stay: %v", m)
	}
}
