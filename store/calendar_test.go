package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func calFields(title string, start time.Time) CalFields {
	return CalFields{Title: title, Start: start, End: start.Add(time.Hour),
		ICS: "BEGIN:VCALENDAR\r\nSUMMARY:" + title + "\r\nEND:VCALENDAR\r\n"}
}

// TestCalendarHistory: every create, edit and delete leaves a revision
// with who and when; preconditions and the entry bound hold.
func TestCalendarHistory(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "tina.t")
	mkAccount(t, s, "paul.p")
	if err := s.CreateGroup(Group{Name: "5a", Members: []string{"paul.p"}, Teachers: []string{"tina.t"}}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	e, created, err := s.PutCalendarEntry(CalPut{Group: "5a", UID: "u1", Fields: calFields("Wandertag", t0), By: "tina.t", Time: t0, MaxEntries: 1})
	if err != nil || !created || e.Rev != 1 {
		t.Fatalf("create: %v %v %+v", err, created, e)
	}
	if _, _, err := s.PutCalendarEntry(CalPut{Group: "5a", UID: "u2", Fields: calFields("zu viel", t0), By: "tina.t", Time: t0, MaxEntries: 1}); !errors.Is(err, ErrCalendarFull) {
		t.Fatalf("second entry over the bound: %v", err)
	}
	if _, _, err := s.PutCalendarEntry(CalPut{Group: "5a", UID: "u1", Fields: calFields("x", t0), By: "paul.p", Time: t0, IfMatch: "1-bad"}); !errors.Is(err, ErrPrecondition) {
		t.Fatalf("wrong If-Match: %v", err)
	}
	e2, created, err := s.PutCalendarEntry(CalPut{Group: "5a", UID: "u1", Fields: calFields("Wandertag (verschoben)", t0.Add(24*time.Hour)),
		By: "paul.p", Time: t0.Add(time.Minute), IfMatch: e.ETag()})
	if err != nil || created || e2.CreatedBy != "tina.t" || e2.ChangedBy != "paul.p" || e2.ETag() == e.ETag() {
		t.Fatalf("edit: %v %v %+v", err, created, e2)
	}
	if err := s.DeleteCalendarEntry("5a", "u1", "tina.t", t0.Add(2*time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	revs, err := s.CalendarRevisions("5a", "u1")
	if err != nil || len(revs) != 3 {
		t.Fatalf("revisions: %v %+v", err, revs)
	}
	want := []struct{ action, by, title string }{{CalCreated, "tina.t", "Wandertag"}, {CalEdited, "paul.p", "Wandertag (verschoben)"}, {CalDeleted, "tina.t", "Wandertag (verschoben)"}}
	for i, w := range want {
		if revs[i].Action != w.action || revs[i].By != w.by || revs[i].Title != w.title || revs[i].Rev != uint64(i+1) {
			t.Errorf("revision %d: %+v, want %v", i, revs[i], w)
		}
	}
	if live, _ := s.CalendarEntries("5a", time.Time{}, time.Time{}); len(live) != 0 {
		t.Errorf("deleted entry still listed: %+v", live)
	}
	c, _ := s.Calendar("5a")
	if c.Entries != 0 || c.Seq != 3 {
		t.Errorf("calendar after delete: %+v", c)
	}
	// Range query: an entry on the 10th is outside [1st, 5th).
	s.PutCalendarEntry(CalPut{Group: "5a", UID: "u3", Fields: calFields("später", t0.Add(7*24*time.Hour)), By: "tina.t", Time: t0})
	in, _ := s.CalendarEntries("5a", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	all, _ := s.CalendarEntries("5a", time.Time{}, time.Time{})
	if len(in) != 0 || len(all) != 1 {
		t.Errorf("range: %d in, %d all", len(in), len(all))
	}
}

// TestCalendarErase: the entries of an erased person stay with the group;
// their name is gone from entries, revisions and the file.
func TestCalendarErase(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	mkAccount(t, s, "tina.t")
	mkAccount(t, s, "otto.o")
	s.CreateGroup(Group{Name: "5a", Teachers: []string{"otto.o", "tina.t"}})
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	f := calFields("Elternabend mit otto.o", t0)
	f.Description = "Fragen an otto.o"
	if _, _, err := s.PutCalendarEntry(CalPut{Group: "5a", UID: "u1", Fields: f, By: "otto.o", Time: t0}); err != nil {
		t.Fatal(err)
	}
	f.Title = "Elternabend"
	s.PutCalendarEntry(CalPut{Group: "5a", UID: "u1", Fields: f, By: "tina.t", Time: t0})
	r, err := s.EraseAccount("otto.o", ErasePlatform)
	if err != nil {
		t.Fatal(err)
	}
	if r.Items["calendar"] == 0 {
		t.Errorf("report: %+v", r.Items)
	}
	e, err := s.CalendarEntry("5a", "u1")
	if err != nil || e.CreatedBy != ErasedName || e.ChangedBy != "tina.t" || strings.Contains(e.Description, "otto.o") {
		t.Fatalf("entry after erase: %v %+v", err, e)
	}
	revs, _ := s.CalendarRevisions("5a", "u1")
	if len(revs) != 2 || revs[0].By != ErasedName || strings.Contains(revs[0].Title+revs[0].ICS, "otto.o") {
		t.Fatalf("revisions after erase: %+v", revs)
	}
	s.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, "schulhof.db"))
	if bytes.Contains(raw, []byte("Fragen an otto.o")) {
		t.Error("the erased name is still readable in the database file")
	}
}

// TestCalendarExport: the person's export has the revisions they made,
// with their groups, and none of another person's.
func TestCalendarExport(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "tina.t")
	mkAccount(t, s, "otto.o")
	s.CreateGroup(Group{Name: "5a", Teachers: []string{"otto.o", "tina.t"}})
	s.CreateGroup(Group{Name: "6b", Teachers: []string{"tina.t"}})
	t0 := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	s.PutCalendarEntry(CalPut{Group: "5a", UID: "a", Fields: calFields("von Tina", t0), By: "tina.t", Time: t0})
	s.PutCalendarEntry(CalPut{Group: "5a", UID: "b", Fields: calFields("von Otto", t0), By: "otto.o", Time: t0})
	s.PutCalendarEntry(CalPut{Group: "6b", UID: "c", Fields: calFields("auch von Tina", t0), By: "tina.t", Time: t0})
	out := memSink{}
	if err := privacyExporters["calendar"](s, "tina.t", out); err != nil {
		t.Fatal(err)
	}
	j := out["kalender.json"]
	if len(out) != 1 || j == nil || !strings.Contains(j.String(), `"group": "5a"`) || !strings.Contains(j.String(), "von Tina") ||
		strings.Contains(j.String(), "von Otto") || !strings.Contains(j.String(), `"group": "6b"`) || !strings.Contains(j.String(), "auch von Tina") {
		t.Errorf("export: %v", out)
	}
	none := memSink{}
	mkAccount(t, s, "neu.n")
	if err := privacyExporters["calendar"](s, "neu.n", none); err != nil || len(none) != 0 {
		t.Errorf("export of a person without entries: %v %v", err, none)
	}
}
