package forumd

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"

	"schulhof/policy"
	"schulhof/store"
)

func setup(t *testing.T) (*Service, map[string]*store.Account) {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acc := map[string]*store.Account{}
	for _, p := range [][3]string{{"eva.lang", "Eva", "teacher"}, {"max.mueller", "Max", "student"}, {"lena.kurz", "Lena", "student"}} {
		name := p[0]
		a, err := st.CreateAccount(store.Account{First: p[1], Last: "X", Role: p[2], ConsentPlatform: true, ConsentComms: true}, func(int) string { return name })
		if err != nil {
			t.Fatal(err)
		}
		acc[name] = &a
	}
	if err := st.CreateGroup(store.Group{Name: "5a", Kind: "class", Members: []string{"lena.kurz", "max.mueller"}, Teachers: []string{"eva.lang"}}); err != nil {
		t.Fatal(err)
	}
	return &Service{Store: st, Domain: "schule.test"}, acc
}

// TestNoticeAndHidden: the author's INBOX notice names the action, the
// moderator and the reason; a hidden post's text reaches only the
// moderator and its author; a returning reader lands on the last page.
func TestNoticeAndHidden(t *testing.T) {
	s, acc := setup(t)
	th, err := s.NewThread(acc["max.mueller"], "g:5a", "Hausaufgaben", "Wer hat Aufgabe 3?")
	if err != nil {
		t.Fatal(err)
	}
	reply, err := s.Reply(acc["lena.kurz"], "g:5a", th.ID, "Hier die Lösung: …", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Moderate(acc["max.mueller"], "g:5a", policy.ForumHide, reply.ID, ""); err == nil {
		t.Fatal("a pupil hid a post")
	} else if d, ok := Refusal(err); !ok || d.Rule != policy.ForumModScope {
		t.Fatalf("pupil hides: %v", err)
	}
	done, err := s.Moderate(acc["eva.lang"], "g:5a", policy.ForumHide, reply.ID, "Lösungen bitte nicht posten")
	if err != nil || done.Author != "lena.kurz" {
		t.Fatalf("hide: %v %+v", err, done)
	}
	for name, want := range map[string]string{"max.mueller": "", "lena.kurz": "Hier die Lösung: …", "eva.lang": "Hier die Lösung: …"} {
		tp, err := s.Thread(acc[name], "g:5a", th.ID, 1)
		if err != nil || len(tp.Posts) != 2 || tp.Posts[1].Text != want {
			t.Errorf("%s sees %q (%v)", name, tp.Posts[1].Text, err)
		}
	}
	// the notice in Lena's INBOX
	mb, err := s.Store.MailboxByName("lena.kurz", store.Inbox)
	if err != nil || mb.Messages != 1 {
		t.Fatalf("inbox: %v %+v", err, mb)
	}
	var blob string
	s.Store.View(func(tx *store.Tx) error {
		return tx.ForEachMessage(mb.ID, func(m *store.Message) error { blob = m.Blob; return nil })
	})
	f, err := s.Store.OpenMessage(mb.ID, 1, blob)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(f)
	f.Close()
	_, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	text, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
	for _, want := range []string{"ausgeblendet", "Eva X (eva.lang)", "Grund:      Lösungen bitte nicht posten", "Hausaufgaben"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("notice lacks %q:\n%s", want, text)
		}
	}
	if !bytes.Contains(raw, []byte("To: lena.kurz@schule.test")) {
		t.Errorf("notice header: %s", raw)
	}
	// a refused action leaves no notice
	if _, err := s.Moderate(acc["eva.lang"], "g:6b", policy.ForumDelete, reply.ID, "x"); err == nil {
		t.Fatal("moderation through an unknown forum")
	}
	if mb, _ := s.Store.MailboxByName("lena.kurz", store.Inbox); mb.Messages != 1 {
		t.Fatalf("refused action told the author: %d", mb.Messages)
	}
	// pages: 45 posts → 3 pages; a returning reader starts on the last
	for i := 0; i < 43; i++ {
		s.flood = &flood{b: map[string]*bucket{}}
		if _, err := s.Reply(acc["eva.lang"], "g:5a", th.ID, "Antwort", 0); err != nil {
			t.Fatal(err)
		}
	}
	tp, err := s.Thread(acc["max.mueller"], "g:5a", th.ID, 0)
	if err != nil || tp.Pages != 3 || tp.Page != 3 || len(tp.Posts) != 5 {
		t.Fatalf("returning reader: %v page %d/%d, %d posts", err, tp.Page, tp.Pages, len(tp.Posts))
	}
	_, rows, _, err := s.Threads(acc["max.mueller"], "g:5a", 1)
	if err != nil || len(rows) != 1 || rows[0].Unread {
		t.Fatalf("still unread after reading the last page: %v %+v", err, rows)
	}
}
