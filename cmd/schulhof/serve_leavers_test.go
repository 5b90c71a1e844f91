package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"schulhof/internal/admin"
	"schulhof/store"
)

// TestServeErasesDueLeaversAtStart: the check serve starts runs at once;
// a pupil locked by --sync two days ago with a grace of one day is erased,
// one locked today is kept.
func TestServeErasesDueLeaversAtStart(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := &admin.Service{Store: st, Domain: "schule.test", LeaverGrace: 24 * time.Hour}
	if _, err := svc.ImportUsers("office", []byte("Vorname;Nachname;Klasse\nMia;Sommer;5a\nJonas;Winter;5a\n"), admin.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportUsers("office", []byte("Vorname;Nachname\n"), admin.ImportOptions{Sync: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateAccount("mia.sommer", func(a *store.Account) error { a.LeftAt = time.Now().Add(-48 * time.Hour); return nil }); err != nil {
		t.Fatal(err)
	}
	s := &server{st: st, admin: svc, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan []admin.LeaverErasure, 1)
	s.startLeaverCheck(ctx, func(r []admin.LeaverErasure, err error) {
		if err != nil {
			t.Error(err)
		}
		results <- r
	})
	r := <-results
	if len(r) != 1 || r[0].Account != "mia.sommer" {
		t.Fatalf("first check erased %+v", r)
	}
	if _, err := st.Account("mia.sommer"); err == nil {
		t.Fatal("due leaver not erased")
	}
	if _, err := st.Account("jonas.winter"); err != nil {
		t.Fatal("leaver within the grace period erased")
	}
}
