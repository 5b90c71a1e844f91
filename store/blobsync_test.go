package store

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// TestBlobSameContentWaitsForSync: a blob file is renamed into place
// before its fsyncs. A second writer of the same content arriving
// meanwhile must wait for them and must not trust the name: when the
// first writer's fsync fails, the name is taken away again and the second
// writer stores (and syncs) the content itself.
func TestBlobSameContentWaitsForSync(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	content := strings.Repeat("blob content ", 2000)
	failNow := errors.New("injected fsync failure")

	waiting := make(chan struct{})
	release := make(chan struct{})
	calls := 0
	blobSyncFault = func() error {
		calls++
		if calls == 1 { // the first writer, renamed and synced: hold it
			<-release
			return failNow
		}
		return nil
	}
	onBlobWait = func() { close(waiting) }
	defer func() { blobSyncFault, onBlobWait = nil, nil }()

	// Two writers of the same content; whichever renames first is held
	// in its fault hook, the other must then wait for it.
	type result struct {
		pb  *PendingBlob
		err error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			pb, err := s.WriteBlob(strings.NewReader(content), -1)
			results <- result{pb, err}
		}()
	}
	select {
	case <-waiting:
	case r := <-results:
		t.Fatalf("a writer returned (%v) while the other held the name unsynced", r.err)
	}
	close(release)
	var pb *PendingBlob
	failed := 0
	for range 2 {
		r := <-results
		switch {
		case errors.Is(r.err, failNow):
			failed++
		case r.err != nil:
			t.Fatal(r.err)
		default:
			pb = r.pb
		}
	}
	if failed != 1 || pb == nil {
		t.Fatalf("%d writers failed, want exactly the held one", failed)
	}
	defer pb.Release()
	raw, err := os.ReadFile(s.blobPath(pb.Hash))
	if err != nil {
		t.Fatalf("the second writer's blob is missing: %v", err)
	}
	if !bytes.Equal(raw, []byte(content)) {
		t.Fatal("the second writer's blob has other content")
	}
	s.blobMu.Lock()
	pending, syncing := s.blobPending[pb.Hash], len(s.blobSyncing)
	s.blobMu.Unlock()
	if pending != 1 || syncing != 0 {
		t.Errorf("pending %d (want 1, the second writer's), syncing %d (want 0)", pending, syncing)
	}
	r, err := s.OpenBlob(pb.Hash)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r)
	r.Close()
}
