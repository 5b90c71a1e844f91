package store

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Writers that arrive during a commit share the next one; one that fails
// gets its own error and takes nothing of the others with it, and every
// committed change reaches the feed once, in order.
func TestGroupCommitSharesAndIsolatesFailures(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	sub := s.Feed().Subscribe(64, nil)
	put := func(key string, runs *atomic.Int32) func(*Tx) error {
		return func(t *Tx) error {
			runs.Add(1)
			t.publish(Event{Kind: "test", Account: key})
			return t.bucket(bucketMeta).Put([]byte(key), []byte("v"))
		}
	}
	var bRuns, cRuns, dRuns atomic.Int32
	errC := errors.New("C refuses")
	results := make([]error, 3)
	fns := []func(*Tx) error{
		put("b", &bRuns),
		func(t *Tx) error { cRuns.Add(1); return errC },
		put("d", &dRuns),
	}
	var calls []func()
	for i, fn := range fns {
		calls = append(calls, func() { results[i] = s.batch(fn) })
	}
	behindOpenCommit(t, s, func(t *Tx) error { return t.bucket(bucketMeta).Put([]byte("first"), []byte("v")) }, calls...)
	if results[0] != nil || results[2] != nil || !errors.Is(results[1], errC) {
		t.Fatalf("results %v", results)
	}
	// B, C, D ran in one shared transaction that C failed; B and D then
	// committed together without it and C ran alone.
	if bRuns.Load() != 2 || cRuns.Load() != 2 || dRuns.Load() != 1 {
		t.Fatalf("runs b=%d c=%d d=%d, want 2, 2, 1", bRuns.Load(), cRuns.Load(), dRuns.Load())
	}
	s.View(func(tx *Tx) error {
		for _, k := range []string{"first", "b", "d"} {
			if tx.bucket(bucketMeta).Get([]byte(k)) == nil {
				t.Errorf("%s not committed", k)
			}
		}
		return nil
	})
	var got []string
	for len(got) < 2 {
		e := <-sub.C
		got = append(got, e.Account)
	}
	if fmt.Sprint(got) != "[b d]" {
		t.Fatalf("feed %v, want [b d]", got)
	}
	select {
	case e := <-sub.C:
		t.Fatalf("extra event %+v", e)
	default:
	}
}

// A panic in one writer's function becomes its error; the commit of the
// others goes on.
func TestGroupCommitPanicIsAnError(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	err := s.batch(func(t *Tx) error { panic("boom") })
	if err == nil {
		t.Fatal("panic swallowed")
	}
	if err := s.batch(func(t *Tx) error { return t.bucket(bucketMeta).Put([]byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
}

// A panic in a round shared with others: the panicking writer is rerun
// alone and must still get an error, not a crash; the others commit, and
// the feed keeps delivering afterwards.
func TestGroupCommitPanicInSharedRound(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	sub := s.Feed().Subscribe(16, func(e Event) bool { return e.Kind == "test.shared" })
	defer sub.Close()
	errs := make([]error, 4)
	var calls []func()
	for i := range errs {
		calls = append(calls, func() {
			errs[i] = s.batch(func(t *Tx) error {
				if i == 0 {
					panic("boom")
				}
				t.publish(Event{Kind: "test.shared"})
				return t.bucket(bucketMeta).Put([]byte(fmt.Sprintf("k%d", i)), []byte("v"))
			})
		})
	}
	behindOpenCommit(t, s, nil, calls...)
	if errs[0] == nil {
		t.Fatal("panic swallowed")
	}
	for i, err := range errs[1:] {
		if err != nil {
			t.Fatalf("writer %d: %v", i+1, err)
		}
	}
	for range 3 {
		if e := <-sub.C; e.Kind != "test.shared" {
			t.Fatalf("event %+v", e)
		}
	}
}

// queued waits until n calls are queued behind the running commit; false
// if they are not within 10 s (a writer that bypasses the group commit
// waits for the writer lock instead and never queues).
func queued(s *Store, n int) bool {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		s.group.mu.Lock()
		got := len(s.group.pending)
		s.group.mu.Unlock()
		if got >= n {
			return true
		}
		runtime.Gosched()
	}
	return false
}

// A group with many failing calls reruns only a bounded number of times:
// past maxGroupFailures the calls behind the last failure run alone, and
// every call still gets its own answer.
func TestGroupCommitBoundsReruns(t *testing.T) {
	s, commits := openCounted(t)
	const n = 40 // 20 failing calls: unbounded, 21 rounds
	if maxGroupFailures+2 >= n/2 {
		t.Fatalf("maxGroupFailures %d: no bound below one round per failure", maxGroupFailures)
	}
	runs := make([]atomic.Int32, n)
	results := make([]error, n)
	errOdd := errors.New("odd refuses")
	var calls []func()
	for i := range n {
		calls = append(calls, func() {
			results[i] = s.batch(func(t *Tx) error {
				runs[i].Add(1)
				if i%2 == 1 {
					return errOdd
				}
				return t.bucket(bucketMeta).Put([]byte(fmt.Sprint("bound-", i)), []byte("v"))
			})
		})
	}
	behindOpenCommit(t, s, nil, calls...)
	for i := range n {
		if i%2 == 1 && !errors.Is(results[i], errOdd) || i%2 == 0 && results[i] != nil {
			t.Errorf("call %d: %v", i, results[i])
		}
		if r := runs[i].Load(); r > maxGroupFailures+2 {
			t.Errorf("call %d ran %d times", i, r)
		}
	}
	// The holding commit, then at most maxGroupFailures failed rounds
	// and the round of the passed prefix.
	if _, g := commits.counts(); g > maxGroupFailures+2 {
		t.Errorf("%d group rounds", g)
	}
	s.View(func(tx *Tx) error {
		for i := 0; i < n; i += 2 {
			if tx.bucket(bucketMeta).Get([]byte(fmt.Sprint("bound-", i))) == nil {
				t.Errorf("call %d's change is missing", i)
			}
		}
		return nil
	})
}

// behindOpenCommit holds a commit open (running hold in it, if set),
// queues each of calls (in order, each in its own goroutine) for the next
// one, then lets them run. It fails the test if a call does not queue: a
// writer that bypasses the group commit waits for the writer lock
// instead.
func behindOpenCommit(t *testing.T, s *Store, hold func(*Tx) error, calls ...func()) {
	t.Helper()
	entered, release := make(chan struct{}), make(chan struct{})
	var held atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.batch(func(tx *Tx) error {
			if held.Add(1) == 1 { // only the first run holds
				close(entered)
				<-release
			}
			if hold != nil {
				return hold(tx)
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
	}()
	<-entered
	for i, call := range calls {
		wg.Add(1)
		go func() { defer wg.Done(); call() }()
		if !queued(s, i+1) {
			close(release)
			wg.Wait()
			t.Fatalf("call %d did not queue for the group commit", i)
		}
	}
	close(release)
	wg.Wait()
}

func readFile(t *testing.T, s *Store, tr Tree, p string) string {
	t.Helper()
	_, r, err := s.FileOpen(tr, p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	defer r.Close()
	got, _ := io.ReadAll(r)
	return string(got)
}

// File puts that arrive during a commit share the next one (a class
// saving at once waits for one log sync), and each still sees the others'
// changes: of two creates of one name with "only if new", one wins.
func TestFilePutsShareOneCommit(t *testing.T) {
	s, commits := openCounted(t)
	tr := HomeTree("a")
	errExists := errors.New("exists")
	onlyNew := func(old *FileEntry) error {
		if old != nil {
			return errExists
		}
		return nil
	}
	puts := []struct{ path, content string }{{"/x.txt", "first"}, {"/x.txt", "second"}, {"/y.txt", "third"}}
	results := make([]error, len(puts))
	var calls []func()
	for i, p := range puts {
		pb, err := s.WriteContent(strings.NewReader(p.content), -1)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, func() {
			defer pb.Release()
			_, _, results[i] = s.FilePut(tr, p.path, PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, Limits: NoLimits(), Check: onlyNew})
		})
	}
	behindOpenCommit(t, s, nil, calls...)
	if single, _ := commits.counts(); single != 0 {
		t.Errorf("%d file puts committed on their own", single)
	}
	winner := -1
	for i, err := range results[:2] {
		switch {
		case err == nil && winner < 0:
			winner = i
		case !errors.Is(err, errExists):
			t.Fatalf("put %d: %v (results %v)", i, err, results)
		}
	}
	if winner < 0 || results[2] != nil {
		t.Fatalf("results %v", results)
	}
	for _, want := range []struct{ path, content string }{puts[winner], puts[2]} {
		if got := readFile(t, s, tr, want.path); got != want.content {
			t.Errorf("%s holds %q, want %q", want.path, got, want.content)
		}
	}
}

// The other changes to a file tree commit in groups too, and each sees
// the ones queued before it: a folder, a file in it, its move out, a
// property on the moved file, and the folder's removal, in one commit.
func TestFileChangesShareOneCommit(t *testing.T) {
	s, commits := openCounted(t)
	tr := HomeTree("a")
	pb, err := s.WriteContent(strings.NewReader("inhalt"), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	prop := DeadProp{Space: "urn:test", Local: "farbe", Inner: []byte("blau")}
	errs := make([]error, 5)
	behindOpenCommit(t, s, nil,
		func() { errs[0] = s.FileMkdir(tr, "/d", time.Now(), NoLimits()) },
		func() {
			_, _, errs[1] = s.FilePut(tr, "/d/f.txt", PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, Limits: NoLimits()})
		},
		func() { errs[2] = s.FileMove(tr, "/d/f.txt", tr, "/g.txt", NoLimits(), false) },
		func() { errs[3] = s.FilePatchProps(tr, "/g.txt", []PropOp{{Prop: prop}}, NoLimits()) },
		func() { errs[4] = s.FileRemove(tr, "/d") },
	)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	if single, _ := commits.counts(); single != 0 {
		t.Errorf("%d file changes committed on their own", single)
	}
	if got := readFile(t, s, tr, "/g.txt"); got != "inhalt" {
		t.Errorf("/g.txt holds %q", got)
	}
	if _, err := s.FileStat(tr, "/d"); !errors.Is(err, ErrNotFound) {
		t.Errorf("/d after its removal: %v", err)
	}
	e, err := s.FileStat(tr, "/g.txt")
	if err != nil {
		t.Fatal(err)
	}
	props, err := s.FileProps(e)
	if err != nil {
		t.Fatal(err)
	}
	if got := props[PropKey(prop.Space, prop.Local)]; string(got.Inner) != "blau" {
		t.Errorf("property of /g.txt: %+v", props)
	}
}
