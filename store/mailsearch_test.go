package store

import (
	"fmt"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// A sparse set (one account's blobs among every other account's) is
// looked up hash by hash after the first misses; a dense one is walked.
// Both find exactly the indexed hashes.
func TestSearchIndexesSparseAndDense(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := func(i int) string { return fmt.Sprintf("h%06d", i) }
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMailSearch)
		for i := 0; i < 5000; i += 2 { // odd numbers are not indexed
			if err := b.Put([]byte(key(i)), []byte(key(i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	run := func(want []int, ask []string) int {
		t.Helper()
		var got []string
		steps := 0
		s.View(func(tx *Tx) error {
			tx.SearchIndexes(ask, func(h string, idx []byte) {
				if string(idx) != h {
					t.Errorf("index of %s: %q", h, idx)
				}
				got = append(got, h)
			})
			steps = tx.steps
			return nil
		})
		var w []string
		for _, i := range want {
			w = append(w, key(i))
		}
		if !slices.Equal(got, w) {
			t.Fatalf("found %v, want %v", got, w)
		}
		return steps
	}
	var dense, denseWant []int
	for i := 100; i < 300; i++ {
		dense = append(dense, i)
		if i%2 == 0 {
			denseWant = append(denseWant, i)
		}
	}
	var sparse, sparseWant []int
	for i := 7; i < 5000; i += 125 { // alternately odd and even
		sparse = append(sparse, i)
		if i%2 == 0 {
			sparseWant = append(sparseWant, i)
		}
	}
	keys := func(is []int) []string {
		var out []string
		for _, i := range is {
			out = append(out, key(i))
		}
		return out
	}
	if steps := run(denseWant, keys(dense)); steps < len(denseWant)/2 {
		t.Fatalf("dense set: %d steps, want it walked", steps)
	}
	// Two walks of 8 steps miss, then every hash is looked up.
	if steps := run(sparseWant, keys(sparse)); steps > 16 {
		t.Fatalf("sparse set of %d: %d steps, want at most 16 before lookups", len(sparse), steps)
	}
}
