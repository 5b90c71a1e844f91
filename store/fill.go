package store

// Written ahead (issue 8). bbolt grows its file with ftruncate, so the
// pages above its high-water mark lie in a sparse hole, and a commit that
// writes pages there makes ext4 allocate blocks: that fdatasync must also
// commit the file system's journal and costs about twice one that only
// overwrites blocks already written. A growing database (every new small
// file adds its content) pays this on almost every commit. The filler
// keeps a stretch above the high-water mark written with zeros and
// synced, in the background, so that growing commits overwrite blocks that
// exist; the file also grows through these writes, so bbolt's own grow
// (ftruncate and a full fsync) is rarely needed.
//
// Why it is safe: bbolt reads and references only pages below the
// high-water mark of the last commit (tx.Size()); the pages above it hold
// nothing, and only the next commit writes there. The filler writes only
// inside a write transaction of its own (bbolt's writer lock: no commit
// runs meanwhile), only at or above that transaction's Size, and then
// commits the transaction without changes: the commit's fdatasync makes
// the zeros (and the new file length) durable before any later commit can
// place pages on them. A crash in between leaves zeros or a hole above the
// mark, which nothing reads. The empty commit (one cheap meta-page write)
// ends the transaction because bbolt's rollback of a write transaction
// rebuilds the whole freelist when NoFreelistSync is set.

import (
	"os"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

const (
	// fillChunk is written per transaction: at about 150 MB/s it holds
	// the writers for under a millisecond.
	fillChunk = 128 << 10
	// The stretch kept written grows with the database (an eighth of
	// it), between these bounds.
	fillMinLead = 256 << 10
	fillMaxLead = 8 << 20
)

type filler struct {
	f    *os.File // the database file, opened for writing
	zero []byte
	// upto: [high-water mark, upto) is written and synced. Changed only
	// inside a write transaction; read outside it only as a hint.
	upto     atomic.Int64
	wake     chan struct{} // cap 1: a commit happened
	stop     chan struct{}
	stopOnce sync.Once // Close may be called twice
	done     chan struct{}
	// onChunk, in tests, sees every chunk before it is written and may
	// veto it.
	onChunk func(start, end, hwm int64) error
}

// fillHook, set by tests before Open, becomes the new filler's onChunk.
var fillHook func(start, end, hwm int64) error

// fillLead is how far above the high-water mark hwm the file is kept
// written.
func fillLead(hwm int64) int64 {
	return min(max(hwm/8, fillMinLead), fillMaxLead)
}

// startFiller opens the database file for the filler's writes and starts
// it; the first round fills the lead above the current mark.
func (s *Store) startFiller() error {
	f, err := os.OpenFile(s.db.Path(), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fl := &filler{f: f, zero: make([]byte, fillChunk), wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}), onChunk: fillHook}
	s.fill = fl
	fl.wake <- struct{}{}
	go s.fillLoop(fl)
	return nil
}

// pokeFiller tells the filler that a commit may have moved the mark.
func (s *Store) pokeFiller() {
	if fl := s.fill; fl != nil {
		select {
		case fl.wake <- struct{}{}:
		default:
		}
	}
}

// stopFiller waits for the filler to finish its chunk and closes its file.
func (s *Store) stopFiller() {
	fl := s.fill
	if fl == nil {
		return
	}
	fl.stopOnce.Do(func() {
		close(fl.stop)
		<-fl.done
		fl.f.Close()
	})
}

func (s *Store) fillLoop(fl *filler) {
	defer close(fl.done)
	for {
		select {
		case <-fl.stop:
			return
		case <-fl.wake:
		}
		for {
			select {
			case <-fl.stop:
				return
			default:
			}
			more, err := s.fillStep(fl)
			if err != nil {
				// Only speed is lost: commits write into the hole as before.
				return
			}
			if !more {
				break
			}
		}
	}
}

// fillStep writes one chunk when the written stretch above the mark is
// shorter than half the lead, and reports whether the lead is not yet full.
func (s *Store) fillStep(fl *filler) (more bool, err error) {
	var hwm int64
	if err := s.db.View(func(tx *bolt.Tx) error { hwm = tx.Size(); return nil }); err != nil {
		return false, err
	}
	if fl.upto.Load() >= hwm+fillLead(hwm)/2 {
		return false, nil
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return false, err
	}
	// The mark only moved up since the check, so the chunk is not empty.
	hwm = tx.Size()
	lead := fillLead(hwm)
	start := max(fl.upto.Load(), hwm)
	end := min(start+fillChunk, hwm+lead)
	if end <= start { // cannot happen (see above); write nothing
		end = start
	}
	if fl.onChunk != nil {
		if err := fl.onChunk(start, end, hwm); err != nil {
			tx.Rollback()
			return false, err
		}
	}
	if _, err := fl.f.WriteAt(fl.zero[:end-start], start); err != nil {
		tx.Rollback()
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	fl.upto.Store(end)
	return end < hwm+lead, nil
}
