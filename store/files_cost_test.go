package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// bigTree makes /big with n files and a path depth folders deep in tr;
// it returns the deep path.
func bigTree(t testing.TB, s *Store, tr Tree, n, depth int) string {
	t.Helper()
	s.db.NoSync = true
	defer func() { s.db.NoSync = false }()
	now := time.Now()
	if err := s.FileMkdir(tr, "/big", now, NoLimits()); err != nil {
		t.Fatal(err)
	}
	if err := s.FileMkdir(tr, "/big/sub", now, NoLimits()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		// Inline content: no blob file fsyncs in the setup.
		pb, err := s.WriteContent(strings.NewReader("x"), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.FilePut(tr, fmt.Sprintf("/big/sub/f%d", i), PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, Limits: NoLimits()}); err != nil {
			t.Fatal(err)
		}
	}
	deep := ""
	for i := range depth {
		deep += fmt.Sprintf("/d%d", i)
		if err := s.FileMkdir(tr, deep, now, NoLimits()); err != nil {
			t.Fatal(err)
		}
	}
	return deep
}

// A MOVE or DELETE of a folder reads O(depth) entries, whatever the
// folder holds, within a tree and across trees (before: the ancestry
// check scanned the whole tree once per level, the move across trees
// re-keyed every entry below).
func TestFileMoveCostsDepth(t *testing.T) {
	s := openTestStore(t)
	home, grp := HomeTree("a"), GroupTree("g")
	const files, depth = 2000, 30
	deep := bigTree(t, s, home, files, depth)
	if _, _, err := s.FilePut(grp, "/x", PutFile{Blob: mustBlob(t, s, "x"), Pending: true, Limits: NoLimits()}); err != nil {
		t.Fatal(err)
	}
	bound := 4*depth + 20
	step := func(name string, fn func(t *Tx) error) {
		var decoded int
		err := s.update(func(tx *Tx) error {
			err := fn(tx)
			decoded = tx.decoded
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if decoded > bound {
			t.Fatalf("%s decoded %d entries, want O(depth) ≤ %d", name, decoded, bound)
		}
	}
	step("move into the deep path", func(tx *Tx) error { return tx.move(home, "/big", home, deep+"/big", NoLimits(), false) })
	step("move into itself", func(tx *Tx) error {
		if err := tx.move(home, "/d0", home, deep+"/x", NoLimits(), false); !errors.Is(err, ErrBadPath) {
			return fmt.Errorf("want ErrBadPath, got %v", err)
		}
		return nil
	})
	step("move to the group", func(tx *Tx) error { return tx.move(home, deep+"/big", grp, "/big", NoLimits(), false) })
	if u, _ := s.TreeUsage(grp); u != files+1 {
		t.Fatalf("group usage = %d, want %d", u, files+1)
	}
	if n, _ := s.TreeEntries(grp); n != files+3 {
		t.Fatalf("group entries = %d, want %d", n, files+3)
	}
	if u, _ := s.TreeUsage(home); u != 0 {
		t.Fatalf("home usage = %d, want 0", u)
	}
	if e, err := s.FileStat(grp, "/big/sub/f7"); err != nil || e.Size != 1 {
		t.Fatalf("moved file: %+v %v", e, err)
	}
	step("remove", func(tx *Tx) error { return tx.remove(grp, "/big") })
	if u, _ := s.TreeUsage(grp); u != 1 {
		t.Fatalf("group usage after remove = %d, want 1", u)
	}
	if err := s.ReapFiles(); err != nil {
		t.Fatal(err)
	}
	if err := s.view(func(tx *Tx) error {
		if n := tx.bucket(bucketFileTrash).Stats().KeyN; n != 0 {
			return fmt.Errorf("trash holds %d", n)
		}
		// home: the deep folders; group: /x.
		if n := tx.bucket(bucketFileEntries).Stats().KeyN; n != depth+1 {
			return fmt.Errorf("entries = %d, want %d", n, depth+1)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.BlobCount(); n != 1 {
		t.Fatalf("blobs = %d, want 1", n)
	}
}

// The limits are counted in the transaction of the change: concurrent
// creators cannot pass them together.
func TestFileLimitsHoldUnderConcurrency(t *testing.T) {
	s := openTestStore(t)
	tr := HomeTree("a")
	lim := NoLimits()
	lim.Entries = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				err = s.FileMkdir(tr, fmt.Sprintf("/d%d", i), time.Now(), lim)
			} else {
				_, _, err = s.FilePut(tr, fmt.Sprintf("/f%d", i), PutFile{Blob: mustBlob(t, s, ""), Pending: true, Limits: lim})
			}
			mu.Lock()
			defer mu.Unlock()
			var le *LimitError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &le) && le.Limit == LimitEntries && le.N == 11:
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 10 || refused != 20 {
		t.Fatalf("ok %d refused %d, want 10 and 20", ok, refused)
	}
	if n, _ := s.TreeEntries(tr); n != 10 {
		t.Fatalf("entries = %d", n)
	}
}

func TestFileLimits(t *testing.T) {
	s := openTestStore(t)
	home, grp := HomeTree("a"), GroupTree("g")
	now := time.Now()
	lim := FileLimits{Quota: 100, Entries: 6, Depth: 3, NameBytes: 10, Props: 2, PropBytes: 20}
	wantLimit := func(what string, err error, l Limit, n int64) {
		t.Helper()
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != l || le.N != n {
			t.Fatalf("%s: %v, want %s %d", what, err, l, n)
		}
	}
	put := func(tr Tree, p, content string, l FileLimits) error {
		_, _, err := s.FilePut(tr, p, PutFile{Blob: mustBlob(t, s, content), Pending: true, Limits: l})
		return err
	}
	wantLimit("long name", s.FileMkdir(home, "/"+strings.Repeat("n", 11), now, lim), LimitName, 11)
	wantLimit("long file name", put(home, "/"+strings.Repeat("n", 12), "", lim), LimitName, 12)
	for _, p := range []string{"/a", "/a/b", "/a/b/c"} {
		if err := s.FileMkdir(home, p, now, lim); err != nil {
			t.Fatal(err)
		}
	}
	wantLimit("too deep", s.FileMkdir(home, "/a/b/c/d", now, lim), LimitDepth, 4)
	wantLimit("too deep file", put(home, "/a/b/c/f", "", lim), LimitDepth, 4)
	// A folder of height 2 fits at depth 1, not at depth 2.
	if err := s.FileMove(home, "/a/b", home, "/b", lim, false); err != nil {
		t.Fatal(err)
	}
	if err := s.FileMkdir(home, "/a/y", now, lim); err != nil {
		t.Fatal(err)
	}
	wantLimit("moved too deep", s.FileMove(home, "/b", home, "/a/y/b", lim, false), LimitDepth, 4)
	wantLimit("moved to a long name", s.FileMove(home, "/b", home, "/"+strings.Repeat("m", 11), lim, false), LimitName, 11)
	if err := put(home, "/f", "0123456789", lim); err != nil {
		t.Fatal(err)
	}
	if err := put(home, "/g", "", lim); err != nil {
		t.Fatal(err)
	}
	wantLimit("seventh entry", put(home, "/h", "", lim), LimitEntries, 7)
	// Across trees: the destination's entries and quota.
	if err := put(grp, "/x", "", lim); err != nil {
		t.Fatal(err)
	}
	glim := lim
	glim.Entries = 2
	wantLimit("move over the group's entries", s.FileMove(home, "/b", grp, "/b", glim, false), LimitEntries, 3) // x, b, b/c
	glim.Entries, glim.Quota = 10, 5
	if err := s.FileMove(home, "/f", grp, "/f", glim, false); !errors.Is(err, ErrQuota) {
		t.Fatalf("move over the group's quota: %v", err)
	}
	// Dead properties: count, size, and their bytes in the quota.
	p := func(local, v string) PropOp {
		return PropOp{Prop: DeadProp{Space: "urn:x", Local: local, Inner: []byte(v)}}
	}
	wantLimit("big property", s.FilePatchProps(home, "/g", []PropOp{p("a", strings.Repeat("v", 20))}, lim), LimitPropBytes, 26)
	wantLimit("third property", s.FilePatchProps(home, "/g", []PropOp{p("a", "1"), p("b", "2"), p("c", "3")}, lim), LimitProps, 3)
	if err := s.FilePatchProps(home, "/g", []PropOp{p("a", "1"), p("b", "2"), p("c", "3"), {Remove: true, Prop: DeadProp{Space: "urn:x", Local: "c"}}}, lim); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.TreeUsage(home); u != 10+14 {
		t.Fatalf("usage with properties = %d, want 24", u)
	}
	plim := lim
	plim.Quota = 30
	if err := s.FilePatchProps(home, "/g", []PropOp{p("a", "1234567"), p("b", "1234567")}, plim); !errors.Is(err, ErrQuota) {
		t.Fatalf("properties over quota: %v", err)
	}
	if err := s.FileRemove(home, "/g"); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.TreeUsage(home); u != 10 {
		t.Fatalf("usage after remove = %d, want 10", u)
	}
}

// Small content is stored inline, survives a reopen byte for byte, is
// shared by a copy, and is deleted with its last reference.
func TestInlineContent(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := HomeTree("a")
	small := bytes.Repeat([]byte("klein "), 600) // 3.6 KB
	large := bytes.Repeat([]byte("gross "), 4000)
	for name, content := range map[string][]byte{"/small": small, "/large": large} {
		pb, err := s.WriteContent(bytes.NewReader(content), -1)
		if err != nil {
			t.Fatal(err)
		}
		if (pb.Data != nil) != (len(content) <= InlineMax) {
			t.Fatalf("%s: inline = %v", name, pb.Data != nil)
		}
		if _, _, err := s.FilePut(tr, name, PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, Limits: NoLimits()}); err != nil {
			t.Fatal(err)
		}
		pb.Release()
	}
	e, _ := s.FileStat(tr, "/small")
	if _, _, err := s.FilePut(tr, "/copy", PutFile{Blob: Blob{Hash: e.Hash, Size: e.Size}, Limits: NoLimits()}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, content := range map[string][]byte{"/small": small, "/copy": small, "/large": large} {
		e, err := s.FileStat(tr, name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := s.OpenContent(e.Hash)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		f.Seek(0, 0)
		got.ReadFrom(f)
		f.Close()
		if !bytes.Equal(got.Bytes(), content) {
			t.Fatalf("%s after reopen: %d bytes, want %d", name, got.Len(), len(content))
		}
	}
	if u, _ := s.TreeUsage(tr); u != int64(2*len(small)+len(large)) {
		t.Fatalf("usage = %d", u)
	}
	inline := func() int {
		n := 0
		s.view(func(tx *Tx) error { n = tx.bucket(bucketFileInline).Stats().KeyN; return nil })
		return n
	}
	if n := inline(); n != 1 {
		t.Fatalf("inline values = %d, want 1", n)
	}
	s.FileRemove(tr, "/small")
	if n := inline(); n != 1 {
		t.Fatalf("inline values with the copy left = %d, want 1", n)
	}
	s.FileRemove(tr, "/copy")
	if n := inline(); n != 0 {
		t.Fatalf("inline values after the last remove = %d, want 0", n)
	}
	if _, err := s.OpenContent(e.Hash); err == nil {
		t.Fatal("deleted content still readable")
	}
}

func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mustBlob writes content as a pending blob released at the test's end.
func mustBlob(t testing.TB, s *Store, content string) Blob {
	t.Helper()
	pb, err := s.WriteBlob(strings.NewReader(content), -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pb.Release)
	return pb.Blob
}

// A listing does not carry the entries' dead properties (up to the quota
// in one folder); FileProps reads them one entry at a time.
func TestFileListWithoutProps(t *testing.T) {
	s := openTestStore(t)
	tr := HomeTree("a")
	if err := putString(t, s, tr, "/f", "x", -1); err != nil {
		t.Fatal(err)
	}
	big := DeadProp{Space: "urn:x", Local: "p", Inner: bytes.Repeat([]byte("v"), 10000)}
	if err := s.FilePatchProps(tr, "/f", []PropOp{{Prop: big}}, NoLimits()); err != nil {
		t.Fatal(err)
	}
	list, err := s.FileList(tr, "/")
	if err != nil || len(list) != 1 {
		t.Fatal(list, err)
	}
	if list[0].Props != nil || list[0].PropBytes != big.Bytes() {
		t.Fatalf("listing carries %d properties, PropBytes %d", len(list[0].Props), list[0].PropBytes)
	}
	m, err := s.FileProps(&list[0])
	if err != nil || len(m[PropKey("urn:x", "p")].Inner) != 10000 {
		t.Fatalf("FileProps: %v", err)
	}
}

// A PROPPATCH writes the properties it names, not all of the entry's: with
// 64 properties of 16 KiB set, adding a small one writes a few pages
// (before: the whole 1 MiB map was encoded and written again).
func TestFilePatchPropsWritesWhatChanges(t *testing.T) {
	s := openTestStore(t)
	tr := HomeTree("a")
	if err := putString(t, s, tr, "/f", "x", -1); err != nil {
		t.Fatal(err)
	}
	var ops []PropOp
	for i := range 64 {
		ops = append(ops, PropOp{Prop: DeadProp{Space: "urn:x", Local: fmt.Sprintf("p%d", i), Inner: bytes.Repeat([]byte("v"), 16000)}})
	}
	if err := s.FilePatchProps(tr, "/f", ops, NoLimits()); err != nil {
		t.Fatal(err)
	}
	writes := func() int64 { st := s.db.Stats(); return st.TxStats.GetPageAlloc() }
	before := writes()
	small := []PropOp{{Prop: DeadProp{Space: "urn:x", Local: "small", Inner: []byte("1")}}}
	if err := s.FilePatchProps(tr, "/f", small, NoLimits()); err != nil {
		t.Fatal(err)
	}
	if w := writes() - before; w > 64<<10 {
		t.Fatalf("one small PROPPATCH wrote %d bytes of pages", w)
	}
	if e, _ := s.FileStat(tr, "/f"); len(e.Props) != 65 || e.PropCount != 65 {
		t.Fatalf("properties: %d (count %d)", len(e.Props), e.PropCount)
	}
}

// FileOpen reads entry and content in one snapshot: content opened before
// a removal stays readable, after it the answer is ErrNotFound.
func TestFileOpenAcrossRemoval(t *testing.T) {
	s := openTestStore(t)
	tr := HomeTree("a")
	small := "klein"
	large := strings.Repeat("gross", 5000)
	for _, c := range []string{small, large} {
		pb, err := s.WriteContent(strings.NewReader(c), -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.FilePut(tr, "/f", PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, Limits: NoLimits()}); err != nil {
			t.Fatal(err)
		}
		pb.Release()
		e, f, err := s.FileOpen(tr, "/f")
		if err != nil || e.Size != int64(len(c)) {
			t.Fatalf("open: %+v %v", e, err)
		}
		if err := s.FileRemove(tr, "/f"); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if _, err := got.ReadFrom(f); err != nil || got.String() != c {
			t.Fatalf("content after removal: %d bytes, %v", got.Len(), err)
		}
		f.Close()
		if _, _, err := s.FileOpen(tr, "/f"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("open after removal: %v", err)
		}
		if _, err := s.OpenContent(e.Hash); !errors.Is(err, ErrNotFound) {
			t.Fatalf("content after removal: %v", err)
		}
	}
}

// The trash is part of the database: folders removed just before a stop
// are emptied after the next open, their content references dropped.
func TestReapAfterRestart(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.stopReaper() // as if the process ended right after the removal
	tr := HomeTree("a")
	bigTree(t, s, tr, 1200, 2) // more than two reaper chunks
	if err := s.FileRemove(tr, "/big"); err != nil {
		t.Fatal(err)
	}
	trash := func(s *Store) int {
		n := 0
		s.view(func(tx *Tx) error { n = tx.bucket(bucketFileTrash).Stats().KeyN; return nil })
		return n
	}
	if trash(s) != 1 {
		t.Fatal("removed folder not in the trash")
	}
	s.Close()
	if s, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.ReapFiles(); err != nil {
		t.Fatal(err)
	}
	if n := trash(s); n != 0 {
		t.Fatalf("trash after reopen: %d", n)
	}
	if n, _ := s.BlobCount(); n != 0 {
		t.Fatalf("contents left: %d", n)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

func TestEntryCodecRoundTrip(t *testing.T) {
	for _, e := range []FileEntry{
		{},
		{ID: 7, Parent: 3, Name: "Bericht ü.odt", Size: 1 << 40, Hash: strings.Repeat("ab", 32), ContentType: "text/plain",
			ModTime: time.Unix(1764600000, 123456789).UTC(), PropBytes: 12, PropCount: 2},
		{ID: 1 << 62, Parent: 1, Name: "d", Dir: true, Bytes: 99, Entries: 100_000, Height: 64, ModTime: time.Unix(-5, 0).UTC()},
	} {
		var got FileEntry
		if err := decodeEntry(encodeEntry(&e), &got); err != nil {
			t.Fatal(err)
		}
		if !got.ModTime.Equal(e.ModTime) {
			t.Fatalf("mtime %v, want %v", got.ModTime, e.ModTime)
		}
		got.ModTime = e.ModTime
		if fmt.Sprint(got) != fmt.Sprint(e) {
			t.Fatalf("round trip:\n%+v\n%+v", got, e)
		}
	}
	if err := decodeEntry([]byte{entryFormat, 0x80}, &FileEntry{}); err == nil {
		t.Fatal("truncated record accepted")
	}
}
