package store

import (
	"slices"
	"sync"
	"testing"
)

func TestBlocklistReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sub := s.Feed().Subscribe(16, nil)
	if l, err := s.Blocklist(); err != nil || len(l) != 0 {
		t.Fatalf("new store: %q, %v", l, err)
	}
	added, err := s.AddBlockedDomains("tiktok.com", "example.com", "tiktok.com")
	if err != nil || !slices.Equal(added, []string{"tiktok.com", "example.com"}) {
		t.Fatalf("add: %q, %v", added, err)
	}
	if ev := <-sub.C; ev.Kind != BlocklistChanged {
		t.Errorf("event %v, want %s", ev, BlocklistChanged)
	}
	added, err = s.AddBlockedDomains("example.com", "xn--bcher-kva.de")
	if err != nil || !slices.Equal(added, []string{"xn--bcher-kva.de"}) {
		t.Fatalf("add again: %q, %v", added, err)
	}
	want := []string{"example.com", "tiktok.com", "xn--bcher-kva.de"}
	if l, _ := s.Blocklist(); !slices.Equal(l, want) {
		t.Fatalf("list %q, want %q", l, want)
	}
	removed, err := s.RemoveBlockedDomains("tiktok.com", "not-there.example")
	if err != nil || !slices.Equal(removed, []string{"tiktok.com"}) {
		t.Fatalf("remove: %q, %v", removed, err)
	}
	if l, _ := s.Blocklist(); !slices.Equal(l, []string{"example.com", "xn--bcher-kva.de"}) {
		t.Fatalf("after remove (cache invalidated?): %q", l)
	}
	if _, err := s.AddBlockedDomains("Upper.Example"); err == nil {
		t.Error("upper-case domain accepted")
	}
	if _, err := s.AddBlockedDomains("a b"); err == nil {
		t.Error("domain with space accepted")
	}
	// A failed transaction changes neither the list nor the cache.
	errBoom := errTest("boom")
	if err := s.Update(func(tx *Tx) error {
		if _, err := tx.AddBlockedDomains("rolled-back.example"); err != nil {
			return err
		}
		return errBoom
	}); err != errBoom {
		t.Fatal(err)
	}
	if l, _ := s.Blocklist(); slices.Contains(l, "rolled-back.example") {
		t.Error("rolled-back add is visible")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if l, _ := s.Blocklist(); !slices.Equal(l, []string{"example.com", "xn--bcher-kva.de"}) {
		t.Fatalf("after reopen: %q", l)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// TestBlocklistCacheConcurrent: readers racing with writers never keep a
// stale list after the last write.
func TestBlocklistCacheConcurrent(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					if _, err := s.Blocklist(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	for i := range 50 {
		d := string(rune('a'+i%26)) + ".example"
		if i%2 == 0 {
			s.AddBlockedDomains(d)
		} else {
			s.RemoveBlockedDomains(string(rune('a'+(i-1)%26)) + ".example")
		}
	}
	close(stop)
	wg.Wait()
	got, _ := s.Blocklist()
	var want []string
	_ = s.View(func(tx *Tx) error { want, _ = tx.Blocklist(); return nil })
	if !slices.Equal(got, want) {
		t.Errorf("cached %q, stored %q", got, want)
	}
}
