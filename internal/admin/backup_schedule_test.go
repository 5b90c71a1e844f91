package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin on machines without a zone database

	"schulhof/store"
)

// fakeClock hands every wait to the test, which fires it after moving
// the time on: no sleeps.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiting chan fakeWait
	stop    chan struct{} // closed when the test ends: no wait blocks then
}

type fakeWait struct {
	at time.Time
	c  chan time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	select {
	case f.waiting <- fakeWait{at: f.Now().Add(d), c: c}:
	case <-f.stop:
	}
	return c
}

// fire moves the clock to the wait's time and wakes the scheduler.
func (f *fakeClock) fire(w fakeWait) {
	f.mu.Lock()
	f.now = w.at
	f.mu.Unlock()
	w.c <- w.at
}

type ranEvent struct {
	res    *store.BackupResult
	pruned []string
	err    error
}

// holding reports whether any file under dir contains marker.
func holding(t *testing.T, dir string, marker []byte) []string {
	t.Helper()
	var hits []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, marker) {
			hits = append(hits, p)
		}
		return nil
	})
	return hits
}

func deliverTo(t *testing.T, st *store.Store, body string, to string) {
	t.Helper()
	pb, err := st.WriteBlob(strings.NewReader(body), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	if _, err := st.Deliver(store.Delivery{NewMessage: store.NewMessage{Blob: pb, Meta: []byte("{}")}, Recipients: []string{to}}); err != nil {
		t.Fatal(err)
	}
}

func TestNextBackup(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ now, want time.Time }{
		{time.Date(2026, 12, 1, 10, 0, 0, 0, berlin), time.Date(2026, 12, 2, 2, 30, 0, 0, berlin)},
		{time.Date(2026, 12, 1, 2, 0, 0, 0, berlin), time.Date(2026, 12, 1, 2, 30, 0, 0, berlin)},
		{time.Date(2026, 12, 1, 2, 30, 0, 0, berlin), time.Date(2026, 12, 2, 2, 30, 0, 0, berlin)},
		// The night the clocks go back: 02:30 comes once more, the next is a day on.
		{time.Date(2026, 10, 24, 12, 0, 0, 0, berlin), time.Date(2026, 10, 25, 2, 30, 0, 0, berlin)},
	} {
		if got := NextBackup(c.now, 2, 30); !got.Equal(c.want) {
			t.Errorf("NextBackup(%v) = %v, want %v", c.now, got, c.want)
		}
	}
}

// Scheduled backups run every night at the configured time, and data
// erased in Schulhof has left every backup keep_days after the erasure.
func TestBackupScheduleErasedDataLeavesBackups(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	svc := newService(t)
	st := svc.Store
	for _, n := range []string{"anna", "ben"} {
		if _, err := st.CreateAccount(store.Account{First: n, Last: "x", Role: "student"}, func(int) string { return n }); err != nil {
			t.Fatal(err)
		}
	}
	rnd := make([]byte, 8)
	rand.Read(rnd)
	secret := []byte("GEHEIM-" + hex.EncodeToString(rnd))
	filler := strings.Repeat("x", store.InlineMax+1) // a blob file, not inline
	deliverTo(t, st, "Subject: anna\r\n\r\n"+string(secret)+filler, "anna")
	deliverTo(t, st, "Subject: ben\r\n\r\n"+filler, "ben")

	bdir := t.TempDir()
	clock := &fakeClock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, berlin), waiting: make(chan fakeWait), stop: make(chan struct{})}
	ran := make(chan ranEvent, 1)
	keep := 14 * 24 * time.Hour
	sched := &BackupSchedule{Store: st, Dir: bdir, Hour: 2, Minute: 30, Keep: keep, Clock: clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ran: func(res *store.BackupResult, pruned []string, err error) { ran <- ranEvent{res, pruned, err} }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sched.Run(ctx); close(done) }()
	defer func() { cancel(); close(clock.stop); <-done }()

	wait := func() ranEvent {
		select {
		case ev := <-ran:
			if ev.err != nil {
				t.Fatal(ev.err)
			}
			return ev
		case <-time.After(30 * time.Second):
			t.Fatal("scheduler did not run")
		}
		return ranEvent{}
	}
	nextWait := func() fakeWait {
		select {
		case w := <-clock.waiting:
			return w
		case <-time.After(30 * time.Second):
			t.Fatal("scheduler does not wait")
		}
		return fakeWait{}
	}

	// No backup yet: one at once, then nightly at 02:30 local time.
	first := wait()
	if !first.res.Manifest.Created.Equal(clock.Now()) {
		t.Fatalf("catch-up backup at %v", first.res.Manifest.Created)
	}
	w := nextWait()
	if want := time.Date(2026, 12, 2, 2, 30, 0, 0, berlin); !w.at.Equal(want) {
		t.Fatalf("next backup at %v, want %v", w.at, want)
	}
	clock.fire(w)
	second := wait()
	before := map[string]bool{first.res.Path: true, second.res.Path: true}
	erasedAt := clock.Now()
	if err := st.DeleteAccount("anna"); err != nil {
		t.Fatal(err)
	}
	if len(holding(t, bdir, secret)) != 2 {
		t.Fatal("the two backups before the erasure should hold anna's mail")
	}
	for day := 3; day <= 17; day++ {
		w := nextWait()
		if want := time.Date(2026, 12, day, 2, 30, 0, 0, berlin); !w.at.Equal(want) {
			t.Fatalf("day %d: next backup at %v, want %v", day, w.at, want)
		}
		clock.fire(w)
		ev := wait()
		now := clock.Now()
		list, err := store.ListBackups(bdir)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range list {
			if !b.Created.After(now.Add(-keep)) {
				t.Fatalf("day %d: backup %s older than keep_days left", day, b.Name)
			}
		}
		if len(list) == 0 || list[len(list)-1].Path != ev.res.Path {
			t.Fatalf("day %d: newest backup is not tonight's", day)
		}
		hits := holding(t, bdir, secret)
		if gone := !now.Before(erasedAt.Add(keep)); gone != (len(hits) == 0) {
			t.Fatalf("day %d (%v after the erasure): backups holding the erased mail: %v", day, now.Sub(erasedAt), hits)
		}
		for _, h := range hits {
			rel, _ := filepath.Rel(bdir, h)
			if !before[filepath.Join(bdir, strings.Split(rel, string(filepath.Separator))[0])] {
				t.Fatalf("a backup after the erasure holds it: %s", h)
			}
		}
	}
	// ben's unchanged blob is one file linked through every kept backup,
	// though the backup it was first copied into is gone.
	list, _ := store.ListBackups(bdir)
	m, err := store.ReadBackupManifest(list[len(list)-1].Path)
	if err != nil || len(m.Files) != 2 || !m.Files[1].Linked {
		t.Fatalf("newest backup: %+v %v", m, err)
	}
	oldest, _ := os.Stat(filepath.Join(list[0].Path, m.Files[1].Path))
	newest, _ := os.Stat(filepath.Join(list[len(list)-1].Path, m.Files[1].Path))
	if oldest == nil || newest == nil || !os.SameFile(oldest, newest) {
		t.Fatal("ben's blob is not one hard-linked file across the kept backups")
	}
	if rep, err := store.VerifyBackups(bdir); err != nil || !rep.OK() {
		t.Fatalf("verify after pruning: %v %+v", err, rep)
	}
}
