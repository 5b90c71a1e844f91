package store

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func refs(t *testing.T, s *Store, hash string) uint64 {
	t.Helper()
	var n uint64
	s.View(func(tx *Tx) error {
		if v := tx.bucket(bucketBlobRefs).Get([]byte(hash)); v != nil {
			n = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return n
}

func pending(t *testing.T, s *Store, content string) *PendingBlob {
	t.Helper()
	pb, err := s.WriteContent(strings.NewReader(content), -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pb.Release)
	return pb
}

// TestHomeworkRoundTrip: a teacher's task takes her file by reference
// (one more count on the same content, no new blob), only the group's
// teacher sets tasks and gives feedback, only its pupils hand in, late
// files are marked, the files bound and the quota (home folder and
// hand-ins together) refuse, HandinVisible gives each pupil her own.
func TestHomeworkRoundTrip(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	for _, n := range []string{"eva.lang", "max.m", "zoe.g", "other.t"} {
		mkAccount(t, s, n)
	}
	if err := s.CreateGroup(Group{Name: "5a", Kind: "class", Members: []string{"max.m", "zoe.g"}, Teachers: []string{"eva.lang"}}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("arbeitsblatt ", InlineMax/10) // a blob file
	if err := putString(t, s, HomeTree("eva.lang"), "/blatt.txt", big, -1); err != nil {
		t.Fatal(err)
	}
	e, _ := s.FileStat(HomeTree("eva.lang"), "/blatt.txt")
	blobs, _ := s.BlobCount()
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	due := now.Add(72 * time.Hour)
	if _, err := s.CreateTask(Task{Group: "5a", Title: "x", Creator: "other.t", Created: now, Due: due}, nil); !errors.Is(err, ErrNotTeacher) {
		t.Fatalf("a teacher of another group set a task: %v", err)
	}
	task, err := s.CreateTask(Task{Group: "5a", Title: "Bruchrechnung", Text: "S. 12", Creator: "eva.lang", Created: now, Due: due, Announced: true}, []string{"/blatt.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.BlobCount(); n != blobs || refs(t, s, e.Hash) != 2 || len(task.Attachments) != 1 || task.Attachments[0].Hash != e.Hash {
		t.Fatalf("attachment not by reference: blobs %d→%d, refs %d, %+v", blobs, n, refs(t, s, e.Hash), task.Attachments)
	}
	// The original goes, the task's copy stays readable.
	if err := s.FileRemove(HomeTree("eva.lang"), "/blatt.txt"); err != nil {
		t.Fatal(err)
	}
	s.ReapFiles()
	c, err := s.OpenHomeworkContent(e.Hash)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != big {
		t.Fatal("attachment content lost with the original")
	}
	if ts, _ := s.TasksOf([]string{"5a"}); len(ts) != 1 || ts[0].ID != task.ID {
		t.Fatalf("TasksOf: %+v", ts)
	}
	if ts, _ := s.TasksOf([]string{"6b"}); len(ts) != 0 {
		t.Fatalf("another group's tasks: %+v", ts)
	}

	lim := HandinLimits{Files: 2, Quota: 100}
	if _, err := s.HandIn(task.ID, "eva.lang", "a.txt", pending(t, s, "x"), now, lim); !errors.Is(err, ErrNotPupil) {
		t.Fatalf("the teacher handed in: %v", err)
	}
	if _, err := s.HandIn(task.ID, "other.t", "a.txt", pending(t, s, "x"), now, lim); !errors.Is(err, ErrNotPupil) {
		t.Fatalf("a non-member handed in: %v", err)
	}
	for _, bad := range []string{"../a.txt", "a/b.txt", "..", "", "a\x00b", "zeile\nb.txt", `a\b.txt`} {
		if _, err := s.HandIn(task.ID, "max.m", bad, pending(t, s, "x"), now, lim); !errors.Is(err, ErrBadPath) {
			t.Fatalf("name %q: %v", bad, err)
		}
	}
	h, err := s.HandIn(task.ID, "max.m", "loesung.txt", pending(t, s, "meine Lösung"), now.Add(time.Hour), lim)
	if err != nil || h.Late() {
		t.Fatalf("hand-in: %+v %v", h, err)
	}
	h, err = s.HandIn(task.ID, "max.m", "nachtrag.txt", pending(t, s, "später"), due.Add(time.Minute), lim)
	if err != nil || !h.Late() || h.Files[0].Late || !h.Files[1].Late {
		t.Fatalf("late hand-in not marked: %+v %v", h, err)
	}
	var le *LimitError
	if _, err := s.HandIn(task.ID, "max.m", "drei.txt", pending(t, s, "3"), now, lim); !errors.As(err, &le) || le.N != 3 {
		t.Fatalf("third file with a bound of two: %v", err)
	}
	if _, err := s.HandIn(task.ID, "max.m", "loesung.txt", pending(t, s, "ersetzt"), now, lim); err != nil {
		t.Fatalf("replacing a file by name: %v", err)
	}
	if err := putString(t, s, HomeTree("zoe.g"), "/home.txt", strings.Repeat("z", 90), -1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.HandIn(task.ID, "zoe.g", "z.txt", pending(t, s, strings.Repeat("y", 11)), now, lim); !errors.Is(err, ErrQuota) {
		t.Fatalf("home folder and hand-in over the quota: %v", err)
	}
	if _, err := s.HandIn(task.ID, "zoe.g", "z.txt", pending(t, s, strings.Repeat("y", 10)), now, lim); err != nil {
		t.Fatalf("at the quota: %v", err)
	}

	if err := s.SetFeedback(task.ID, "max.m", "other.t", "gut", now); !errors.Is(err, ErrNotTeacher) {
		t.Fatalf("feedback by a non-teacher: %v", err)
	}
	if err := s.SetFeedback(task.ID, "max.m", "eva.lang", "Gut gemacht", now); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Handin(task.ID, "max.m"); h.Feedback != "Gut gemacht" || h.FeedbackBy != "eva.lang" || len(h.Files) != 2 {
		t.Fatalf("feedback: %+v", h)
	}
	if hs, _ := s.Handins(task.ID); len(hs) != 2 || hs[0].Pupil != "max.m" || hs[1].Pupil != "zoe.g" {
		t.Fatalf("Handins: %+v", hs)
	}

	// The doctor's recount sees the attachment's and the hand-ins'
	// references: nothing over- or undercounted, nothing missing.
	if r, err := s.CheckBlobs(); err != nil || len(r.Overcounted)+len(r.Undercounted)+len(r.Missing)+len(r.Orphans) != 0 {
		t.Fatalf("CheckBlobs: %+v %v", r, err)
	}

	g, _ := s.Group("5a")
	for _, c := range []struct {
		viewer, pupil string
		want          bool
	}{{"max.m", "max.m", true}, {"max.m", "zoe.g", false}, {"zoe.g", "max.m", false},
		{"eva.lang", "max.m", true}, {"eva.lang", "zoe.g", true}, {"other.t", "max.m", false}} {
		if HandinVisible(g, c.viewer, c.pupil) != c.want {
			t.Errorf("HandinVisible(%s, %s) = %v", c.viewer, c.pupil, !c.want)
		}
	}
}

// TestHomeworkErasure: erasing a pupil removes her hand-ins and their
// content (no blob, no inline value left); erasing the teacher keeps the
// task and the feedback text, only her name goes. The export has the
// hand-in's file and feedback.
func TestHomeworkErasure(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	for _, n := range []string{"eva.lang", "max.m", "zoe.g"} {
		mkAccount(t, s, n)
	}
	if err := s.CreateGroup(Group{Name: "5a", Kind: "class", Members: []string{"max.m", "zoe.g"}, Teachers: []string{"eva.lang"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	task, err := s.CreateTask(Task{Group: "5a", Title: "Aufsatz", Creator: "eva.lang", Created: now, Due: now.Add(96 * time.Hour), Announced: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	secret := "GEHEIMER-AUFSATZ-" + strings.Repeat("m", InlineMax)
	pb := pending(t, s, secret)
	if _, err := s.HandIn(task.ID, "max.m", "aufsatz.txt", pb, now, HandinLimits{-1, -1}); err != nil {
		t.Fatal(err)
	}
	pb.Release()
	if _, err := s.HandIn(task.ID, "zoe.g", "z.txt", pending(t, s, "zoes text"), now, HandinLimits{-1, -1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFeedback(task.ID, "max.m", "eva.lang", "Schön, Max", now); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFeedback(task.ID, "zoe.g", "eva.lang", "Danke, Zoë", now); err != nil {
		t.Fatal(err)
	}

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	if err := privacyExporters["homework"](s, "max.m", zipSink{zw}); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	zr, _ := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	found := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		found[f.Name] = string(b)
	}
	if found["hausaufgaben/abgaben/1/aufsatz.txt"] != secret || !strings.Contains(found["hausaufgaben/abgaben/1/abgabe.json"], "Schön, Max") {
		t.Fatalf("export: %v", len(found))
	}

	if _, err := s.EraseAccount("max.m", ErasePlatform); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Handin(task.ID, "max.m"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("hand-in left after erasure: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", pb.Hash[:2], pb.Hash[2:])); !os.IsNotExist(err) {
		t.Fatalf("hand-in blob left: %v", err)
	}
	if _, err := s.EraseAccount("eva.lang", ErasePlatform); err != nil {
		t.Fatal(err)
	}
	tk, err := s.Task(task.ID)
	if err != nil || tk.Creator != ErasedName || tk.Title != "Aufsatz" {
		t.Fatalf("task after the teacher's erasure: %+v %v", tk, err)
	}
	if h, _ := s.Handin(task.ID, "zoe.g"); h.FeedbackBy != ErasedName || h.Feedback != "Danke, Zoë" || len(h.Files) != 1 {
		t.Fatalf("zoë's hand-in after the teacher's erasure: %+v", h)
	}
}

type zipSink struct{ w *zip.Writer }

func (z zipSink) Create(name string, mod time.Time) (io.Writer, error) {
	return z.w.CreateHeader(&zip.FileHeader{Name: name, Modified: mod})
}
