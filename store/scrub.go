package store

// Erased means unreadable on disk. Removing a value from bbolt only puts
// its page on the free list; the bytes stay in schulhof.db (and in every
// backup of it) until bbolt happens to reuse the page. A removed blob file
// likewise leaves its blocks in the file system's free space.
//
// After an erasure the store therefore overwrites every free page of the
// database while the server keeps serving (ScrubFreePages):
//
//   - It lets bbolt itself choose the pages: a write transaction fills a
//     scratch bucket with zero-valued records sized so that each leaf is
//     exactly one page, as many pages as the free list holds. bbolt
//     allocates them from its released free pages only, never from the
//     pages still pending for an open reader (a reader may still map those),
//     and writes each page whole (the rest of a page buffer is zero). The
//     next transaction drops the scratch bucket; its pages, now zeros, go
//     back to the free list. bbolt's own commit fsyncs what it wrote.
//   - Pages freed by the erasure but still pending for a reader that was
//     open during it cannot be overwritten yet: an empty commit releases
//     what no reader holds, and while bbolt still reports pending pages the
//     scrub waits for the readers to finish (they are short in Schulhof)
//     and tries again, up to scrubWait.
//
// The cost is proportional to the free pages (what was erased plus what
// was free before), not to the database: a 2 GiB database with a few MiB
// free costs the same as a small one. A compaction into a new file
// (bbolt.Compact) would cost a copy of the whole database under an
// exclusive lock every time (scrub_test.go measures both).
//
// Blob files whose last reference an erasure drops are overwritten with
// zeros and synced before they are unlinked (removeUnreferenced). On a
// copy-on-write file system (btrfs, ZFS) an overwrite writes new blocks;
// there only the file system's own discard or encryption helps.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketScrub is the scratch bucket of a scrub; it exists only while one
// runs (and after a crash in one, until the next open).
var bucketScrub = []byte("\x00scrub")

// scrubOwedKey in meta marks an erasure whose scrub has not finished. It
// is set before the erasure's first change and deleted in the scrub's last
// commit, so an erasure cut short by a crash or a stop (or a scrub still
// waiting for readers then) is scrubbed by the next Open, before anything
// is served.
var scrubOwedKey = []byte("scrub.owed")

// oweScrub sets the mark; see scrubOwedKey.
func (s *Store) oweScrub() error {
	return s.update(func(t *Tx) error { return t.bucket(bucketMeta).Put(scrubOwedKey, []byte{1}) })
}

// scrubIfOwed runs the scrub an earlier process owed (Open).
func (s *Store) scrubIfOwed() (pages int, err error) {
	var owed bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		owed = tx.Bucket(bucketMeta).Get(scrubOwedKey) != nil
		return nil
	}); err != nil || !owed {
		return 0, err
	}
	st, err := s.ScrubFreePages()
	return st.Pages, err
}

const (
	// scrubTxPages bounds the pages one filling transaction writes (16 MiB
	// with 4 KiB pages), so the writer lock is held briefly and memory
	// stays small.
	scrubTxPages = 4096
	// scrubWait is how long a scrub waits for readers holding freed pages.
	scrubWait = 30 * time.Second
)

// ErrScrubPending means freed pages could not be overwritten because a
// read transaction still held them after scrubWait.
var ErrScrubPending = errors.New("store: freed pages still held by an open reader")

// ScrubStats says what one scrub did.
type ScrubStats struct {
	Pages    int           // free pages overwritten
	PageSize int           // bytes per page
	Rounds   int           // filling transactions
	Took     time.Duration // wall time
}

// scrubAfterErase overwrites the pages an erasure freed. When a reader
// holds some of them longer than scrubWait, the erasure itself is done and
// the report says the scrub is pending; it is retried in the background
// until it succeeds or the store closes.
func (s *Store) scrubAfterErase(r *ErasureReport) error {
	if s.skipScrub {
		return nil
	}
	st, err := s.ScrubFreePages()
	r.ScrubbedPages = st.Pages
	if errors.Is(err, ErrScrubPending) {
		r.ScrubPending = true
		go s.scrubLater()
		return nil
	}
	return err
}

// scrubLater retries a scrub that had to wait for readers.
func (s *Store) scrubLater() {
	for {
		select {
		case <-s.reapStop:
			return
		case <-time.After(scrubWait):
		}
		if _, err := s.ScrubFreePages(); !errors.Is(err, ErrScrubPending) {
			return
		}
	}
}

// ScrubFreePages overwrites every free page of the database with zeros
// (see the file comment) and returns what it did.
func (s *Store) ScrubFreePages() (st ScrubStats, err error) {
	s.scrubMu.Lock() // one scrub at a time: they would fill each other's pages
	defer s.scrubMu.Unlock()
	start := time.Now()
	st.PageSize = s.db.Info().PageSize
	defer func() { st.Took = time.Since(start) }()
	// Release what no reader holds; wait while readers hold freed pages.
	for wait := time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		if err := s.db.Update(func(tx *bolt.Tx) error { return dropScrubBucket(tx) }); err != nil {
			return st, err
		}
		if s.db.Stats().PendingPageN == 0 {
			break
		}
		if time.Since(start) > scrubWait {
			return st, ErrScrubPending
		}
		if s.onScrubWait != nil {
			s.onScrubWait()
		}
		time.Sleep(wait)
	}
	// Fill the free pages. Each round's own commit frees a few pages
	// (the old copies of the scratch bucket's path and of the root): they
	// hold nothing erased, but the next round takes them too, until the
	// free list is empty.
	var seq uint64
	for free := s.db.Stats().FreePageN; free > 0; free = s.db.Stats().FreePageN {
		if time.Since(start) > 2*scrubWait { // writers free pages as fast as it fills them
			return st, fmt.Errorf("%w: the scrub does not converge (%d pages free)", ErrScrubPending, free)
		}
		n := min(free, scrubTxPages)
		if err := s.db.Update(func(tx *bolt.Tx) error {
			return fillPages(tx, n, st.PageSize, &seq)
		}); err != nil {
			return st, err
		}
		st.Pages += n
		st.Rounds++
	}
	if err = s.db.Update(func(tx *bolt.Tx) error {
		if err := dropScrubBucket(tx); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Delete(scrubOwedKey)
	}); err != nil {
		return st, err
	}
	// Should the process stop before the wipe, the next Open replays and
	// zeroes the log. The write-ahead log still holds copies of the pages the erasure
	// freed, in the records of earlier commits: overwrite it too.
	return st, s.db.WipeWAL()
}

// fillPages adds records to the scratch bucket that take n leaf pages of
// zeros: two records per page, each of the size that makes two fill one
// page exactly (bbolt keeps at least two keys per page).
func fillPages(tx *bolt.Tx, n, pageSize int, seq *uint64) error {
	b, err := tx.CreateBucketIfNotExists(bucketScrub)
	if err != nil {
		return err
	}
	b.FillPercent = 1
	const pageHeader, elemHeader, keyLen = 16, 16, 8
	val := make([]byte, (pageSize-pageHeader)/2-elemHeader-keyLen)
	for range 2 * n {
		*seq++
		if err := b.Put(u64(*seq), val); err != nil {
			return err
		}
	}
	return nil
}

func dropScrubBucket(tx *bolt.Tx) error {
	if tx.Bucket(bucketScrub) == nil {
		return nil
	}
	return tx.DeleteBucket(bucketScrub)
}

// zeroFile overwrites a file's first size bytes with zeros and syncs it,
// before it is unlinked.
func zeroFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	zeros := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size; {
		n := min(int64(len(zeros)), size-off)
		if _, err := f.WriteAt(zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	return f.Sync()
}

// bucketNames lists the top-level buckets of the database file.
func (s *Store) bucketNames() ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			out = append(out, string(name))
			return nil
		})
	})
	return out, err
}

// Found is one place where FindBytes found a needle: a key or value of a
// bucket (nested buckets named with "/").
type Found struct {
	Bucket string
	Key    []byte
	InKey  bool   // the needle is in the key (else in the value)
	Value  []byte // the value (nil for a nested bucket)
	Needle string
}

// FindBytes lists every key and value of every bucket that contains one
// of the needles, and how often each needle occurs in all keys and
// values together. It is the live half of the erasure proof: the raw
// file may hold a needle only as often as the live records do (the rest
// would be in freed pages).
func (s *Store) FindBytes(needles ...string) (found []Found, count map[string]int, err error) {
	count = map[string]int{}
	look := func(bucket string, k, v []byte, inKey bool, b []byte) {
		for _, n := range needles {
			if c := bytes.Count(b, []byte(n)); c > 0 {
				count[n] += c
				found = append(found, Found{Bucket: bucket, Key: bytes.Clone(k), InKey: inKey, Value: bytes.Clone(v), Needle: n})
			}
		}
	}
	var walk func(path string, b *bolt.Bucket) error
	walk = func(path string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			look(path, k, v, true, k)
			if v == nil { // a nested bucket
				return walk(path+"/"+string(k), b.Bucket(k))
			}
			look(path, k, v, false, v)
			return nil
		})
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			look("", name, nil, true, name)
			return walk(string(name), b)
		})
	})
	return found, count, err
}
