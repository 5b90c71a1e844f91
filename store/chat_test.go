package store

import (
	"errors"
	"testing"
	"time"
)

func TestChatSequenceHistoryAndResume(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	room := GroupRoomID("5a")
	sub := s.Feed().Subscribe(100, func(e Event) bool { return e.Kind == ChatChanged })
	for i := 0; i < 5; i++ {
		m, err := s.PostMessage(room, "max.mueller", "hallo", time.Now(), nil)
		if err != nil || m.Seq != uint64(i+1) {
			t.Fatalf("post %d: %v %+v", i, err, m)
		}
	}
	if e := <-sub.C; e.Data.(ChatChange).Message.Seq != 1 {
		t.Fatalf("feed: %+v", e)
	}
	// an edit and a delete take new sequence numbers
	txt := "geändert"
	if _, err := s.ChangeMessage(room, 2, "max.mueller", &txt, func(*ChatMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangeMessage(room, 3, "max.mueller", nil, func(*ChatMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	got, more, err := s.ChangesSince(room, 4, 10)
	if err != nil || more || len(got) != 3 || got[0].Seq != 5 || got[1].Seq != 2 || !got[1].Edited || got[2].Seq != 3 || !got[2].Deleted || got[2].Text != "" {
		t.Fatalf("changes since 4: %+v %v %v", got, more, err)
	}
	h, more, err := s.History(room, 0, 2)
	if err != nil || !more || len(h) != 2 || h[0].Seq != 4 || h[1].Seq != 5 {
		t.Fatalf("newest page: %+v %v", h, more)
	}
	h, more, _ = s.History(room, 4, 10)
	if more || len(h) != 3 || h[0].Seq != 1 || h[2].Seq != 3 {
		t.Fatalf("older page: %+v %v", h, more)
	}
	// another room's messages never leak into this one's history
	s.PostMessage(GroupRoomID("5a2"), "x", "y", time.Now(), nil)
	s.PostMessage(GroupRoomID("5"), "x", "y", time.Now(), nil)
	h, _, _ = s.History(room, 0, 100)
	if len(h) != 5 {
		t.Fatalf("history mixes rooms: %+v", h)
	}
	if n, _ := s.Unread("eva.lang", room, 100); n != 4 {
		t.Fatalf("unread: %d", n)
	}
	s.SetRead("eva.lang", room, 4)
	if n, _ := s.Unread("eva.lang", room, 100); n != 1 {
		t.Fatalf("unread after read: %d", n)
	}
}

func TestReportReadIsAudited(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	room := GroupRoomID("5a")
	for i := 0; i < 10; i++ {
		s.PostMessage(room, "max.mueller", "m", time.Now(), nil)
	}
	id, err := s.CreateReport(room, 5, "zoe.gross", "beleidigend", 3, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// later deletion does not change what was reported
	s.ChangeMessage(room, 5, "max.mueller", nil, func(*ChatMessage) error { return nil })
	before, _ := s.AuditLog(time.Time{})
	r, err := s.ReadReport(id, "admin.schulhof")
	if err != nil || len(r.Context) != 7 || r.Context[3].Seq != 5 || r.Context[3].Deleted || r.Reason != "beleidigend" {
		t.Fatalf("report: %+v %v", r, err)
	}
	after, _ := s.AuditLog(time.Time{})
	if len(after) != len(before)+1 || after[len(after)-1].Action != "report.read" || after[len(after)-1].Actor != "admin.schulhof" {
		t.Fatalf("no audit record: %+v", after)
	}
	if n, _ := s.OpenReports(); n != 1 {
		t.Fatal(n)
	}
	if err := s.CloseReport(id, "admin.schulhof", "erledigt", time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.OpenReports(); n != 0 {
		t.Fatal(n)
	}
	if _, err := s.ReadReport(99, "a"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestSessionsPerAccount(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	for _, id := range []string{"a", "b", "c"} {
		if err := s.CreateSession(id, WebSession{Account: "max.mueller"}); err != nil {
			t.Fatal(err)
		}
	}
	s.CreateSession("d", WebSession{Account: "max.mueller2"})
	if l, _ := s.SessionsOf("max.mueller"); len(l) != 3 {
		t.Fatalf("%+v", l)
	}
	if n, _ := s.DeleteSessionsOf("max.mueller", SessionKey("b")); n != 2 {
		t.Fatal(n)
	}
	if _, err := s.Session("a"); !errors.Is(err, ErrNotFound) {
		t.Fatal("session a survived")
	}
	if _, err := s.Session("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session("d"); err != nil {
		t.Fatal("another account's session ended")
	}
}
