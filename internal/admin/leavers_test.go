package admin

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"schulhof/store"
)

// TestLeaversErasedAfterGrace: --sync locks a pupil missing from the file
// and records the day; the daily check (driven here by injected ticks)
// leaves her alone within the grace period and erases her after it, with
// the erasure's report in the audit log. A teacher missing from the file
// is locked but never erased automatically.
func TestLeaversErasedAfterGrace(t *testing.T) {
	s := newService(t)
	left := time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return left }
	s.LeaverGrace = 60 * 24 * time.Hour
	first := "Vorname;Nachname;Klasse;Rolle\nMia;Sommer;5a;S\nJonas;Winter;5a;S\nEva;Lang;5a;L\n"
	if _, err := s.ImportUsers("office", []byte(first), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := s.ImportUsers("office", []byte("Vorname;Nachname;Klasse;Rolle\nJonas;Winter;6a;S\n"), ImportOptions{Sync: true})
	if err != nil || len(res.Locked) != 2 {
		t.Fatalf("sync: %+v %v", res, err)
	}
	mia, _ := s.Store.Account("mia.sommer")
	if !mia.Locked || !mia.LeftAt.Equal(left) {
		t.Fatalf("leaver %+v", mia)
	}
	if eva, _ := s.Store.Account("eva.lang"); !eva.Locked || !eva.LeftAt.IsZero() {
		t.Fatalf("teacher missing from a pupils' file is no leaver: %+v", eva)
	}
	list, err := s.Leavers()
	if err != nil || len(list) != 1 || list[0].Account != "mia.sommer" || !list[0].Due.Equal(left.AddDate(0, 0, 60)) {
		t.Fatalf("leavers %+v %v", list, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ticks := make(chan time.Time)
	results := make(chan []LeaverErasure)
	go s.LeaverLoop(ctx, ticks, slog.New(slog.NewTextHandler(io.Discard, nil)), func(r []LeaverErasure, err error) {
		if err != nil {
			t.Error(err)
		}
		results <- r
	})
	ticks <- left.AddDate(0, 0, 59)
	if r := <-results; len(r) != 0 {
		t.Fatalf("erased within the grace period: %+v", r)
	}
	if _, err := s.Store.Account("mia.sommer"); err != nil {
		t.Fatal("leaver gone within the grace period")
	}
	ticks <- left.AddDate(0, 0, 60).Add(time.Hour)
	r := <-results
	if len(r) != 1 || r[0].Account != "mia.sommer" || r[0].Report == nil || r[0].Report.Items["accounts"] != 1 {
		t.Fatalf("after the grace period: %+v", r)
	}
	if _, err := s.Store.Account("mia.sommer"); err == nil {
		t.Fatal("leaver not erased")
	}
	if l, _ := s.Leavers(); len(l) != 0 {
		t.Fatalf("still listed: %+v", l)
	}
	found := false
	log, _ := s.Store.AuditLog(time.Time{})
	for _, a := range log {
		if a.Action == store.ActionErase && a.Target == "mia.sommer" && a.Actor == LeaverActor && strings.Contains(a.Detail, "accounts=1") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no erasure report in the audit log: %+v", log)
	}
	// Jonas and the teacher stay.
	for _, n := range []string{"jonas.winter", "eva.lang"} {
		if _, err := s.Store.Account(n); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

// TestLeaverBackInFileIsKept: a pupil in a later file before the end of
// the grace period is unlocked and no longer due.
func TestLeaverBackInFileIsKept(t *testing.T) {
	s := newService(t)
	file := "Vorname;Nachname;Klasse;Rolle\nMia;Sommer;5a;S\n"
	s.ImportUsers("office", []byte(file), ImportOptions{})
	s.ImportUsers("office", []byte("Vorname;Nachname\n"), ImportOptions{Sync: true})
	if l, _ := s.Leavers(); len(l) != 1 {
		t.Fatalf("leavers %+v", l)
	}
	if _, err := s.ImportUsers("office", []byte(file), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Leavers(); len(l) != 0 {
		t.Fatalf("back in the file, still due: %+v", l)
	}
	if r, err := s.EraseDueLeavers(LeaverActor, time.Now().AddDate(1, 0, 0)); err != nil || len(r) != 0 {
		t.Fatalf("%+v %v", r, err)
	}
	if m, _ := s.Store.Account("mia.sommer"); m == nil || m.Locked || !m.LeftAt.IsZero() {
		t.Fatalf("%+v", m)
	}
	// An admin's unlock ends the leaver state too.
	s.ImportUsers("office", []byte("Vorname;Nachname\n"), ImportOptions{Sync: true})
	if l, _ := s.Leavers(); len(l) != 1 {
		t.Fatalf("leavers %+v", l)
	}
	if err := s.Unlock("admin", "mia.sommer"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Leavers(); len(l) != 0 {
		t.Fatalf("unlocked, still due: %+v", l)
	}
}
