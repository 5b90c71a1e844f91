package store

// The live store commits with NoFreelistSync: a small write does not also
// write bbolt's list of free pages. Without that list on disk, bbolt's
// Open rebuilds it by walking every page of the database (db.freepages),
// which on a store of many gigabytes reads the whole file. So a clean
// Close commits one last transaction with the list written; the next Open
// reads it from its page (loadFreelist), and that Open's first commit
// frees the page and marks the meta "no freelist" again, so a later crash
// cannot leave a stale list behind. Only after a crash (SIGKILL, power
// loss) does Open still walk: crash recovery, timed in OpenInfo.

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// OpenInfo says what Open cost.
type OpenInfo struct {
	// Took is the time bbolt's Open needed.
	Took time.Duration
	// FreelistRebuilt: the database was not closed cleanly, so Open
	// walked every page to find the free ones.
	FreelistRebuilt bool
	// Replayed is the number of commits applied from the write-ahead log:
	// the last stop was a crash (0 after a clean close).
	Replayed int
	// Scrubbed is the number of free pages overwritten for an erasure the
	// last process did not finish scrubbing (scrub.go); 0 when none was
	// owed.
	Scrubbed int
}

// OpenInfo reports how the store was opened.
func (s *Store) OpenInfo() OpenInfo { return s.openInfo }

// syncFreelistAndClose writes the freelist in one empty commit (bbolt
// writes it and the meta page with every commit while NoFreelistSync is
// off) and closes the database. The flag is switched inside the write
// transaction: every commit reads it under the same writer lock.
func (s *Store) syncFreelistAndClose() error {
	var err error
	if !s.db.IsReadOnly() {
		err = s.db.Update(func(*bolt.Tx) error {
			s.db.NoFreelistSync = false
			return nil
		})
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			err = nil // closed before
		}
	}
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// bbolt's meta page, after the 16-byte page header: magic, version, page
// size, flags (4 bytes each), root bucket (page, sequence), freelist page,
// high water mark, transaction id, checksum (8 bytes each). bbolt writes
// it in the machine's byte order; Schulhof runs on little-endian machines.
const (
	metaOffset     = 16
	metaMagic      = 0xED0CDAED
	metaVersion    = 2
	metaSumBytes   = 56
	metaBytes      = 64
	noFreelistPage = ^uint64(0)
)

type metaPage struct {
	pageSize uint32
	freelist uint64
	txid     uint64
}

// parseMeta decodes one meta page; ok is false if it is not valid (a torn
// write), as bbolt's Validate would say.
func parseMeta(b []byte) (metaPage, bool) {
	if len(b) < metaOffset+metaBytes {
		return metaPage{}, false
	}
	m := b[metaOffset : metaOffset+metaBytes]
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(m[:metaSumBytes])
	if le.Uint32(m[0:]) != metaMagic || le.Uint32(m[4:]) != metaVersion || le.Uint64(m[56:]) != h.Sum64() {
		return metaPage{}, false
	}
	return metaPage{pageSize: le.Uint32(m[8:]), freelist: le.Uint64(m[32:]), txid: le.Uint64(m[48:])}, true
}

// freelistSynced reads the database file's current meta page (the valid
// one with the higher transaction id, as bbolt picks it) and reports
// whether it names a freelist page. A missing file is not an error.
func freelistSynced(path string) (synced, exists bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	buf := make([]byte, metaOffset+metaBytes)
	if _, err := io.ReadFull(f, buf); err != nil {
		return false, true, nil // empty or short: bbolt initialises it
	}
	m0, ok0 := parseMeta(buf)
	var m1 metaPage
	ok1 := false
	second := int64(os.Getpagesize()) // bbolt's guess when meta 0 is torn
	if ok0 {
		second = int64(m0.pageSize)
	}
	if _, err := f.ReadAt(buf, second); err == nil {
		m1, ok1 = parseMeta(buf)
	}
	cur, ok := m0, ok0
	if ok1 && (!ok0 || m1.txid > m0.txid) {
		cur, ok = m1, true
	}
	return ok && cur.freelist != noFreelistPage, true, nil
}
