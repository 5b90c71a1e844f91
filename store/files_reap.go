package store

// The reaper empties removed folders. FileRemove and deleteTree only take
// a folder out of its tree (O(depth)) and put its id into filetrash; the
// reaper then deletes what lies below in transactions of at most
// reapChunk entries each, so no removal holds the write lock for long,
// and drops content references as it goes (blobs are removed after each
// commit, inline content in the same transaction). It runs in the
// background right after every commit that fills the trash, and at open
// (a crash may have left work).

import (
	"bytes"
	"errors"
)

const reapChunk = 500

var errNothingToReap = errors.New("nothing to reap")

// startReaper runs the background reaper until Close.
func (s *Store) startReaper() {
	s.reapWake = make(chan struct{}, 1)
	s.reapStop = make(chan struct{})
	s.reapDone = make(chan struct{})
	go func() {
		defer close(s.reapDone)
		for {
			// A failed round (a database error) is retried at the next
			// wake and at the next open: the trash keeps the work.
			_ = s.ReapFiles()
			select {
			case <-s.reapStop:
				return
			case <-s.reapWake:
			}
		}
	}()
	s.wakeReaper()
}

func (s *Store) wakeReaper() {
	if s.reapWake == nil {
		return
	}
	select {
	case s.reapWake <- struct{}{}:
	default:
	}
}

func (s *Store) stopReaper() {
	if s.reapStop == nil {
		return
	}
	s.reapOnce.Do(func() { close(s.reapStop) })
	<-s.reapDone
}

// ReapFiles deletes the contents of removed folders until none are left
// (the background reaper does the same; tests call it to wait for it).
func (s *Store) ReapFiles() error {
	for {
		empty := true
		if err := s.view(func(t *Tx) error {
			k, _ := t.bucket(bucketFileTrash).Cursor().First()
			empty = k == nil
			return nil
		}); err != nil || empty {
			return err // no write transaction when there is nothing to do
		}
		done := false
		err := s.update(func(t *Tx) error {
			var err error
			if done, err = t.reapChunk(); err == nil && done {
				return errNothingToReap // another reaper was first: nothing to commit
			}
			return err
		})
		if errors.Is(err, errNothingToReap) {
			return nil
		}
		if err != nil || done {
			return err
		}
		select {
		case <-s.reapStop:
			return nil
		default:
		}
	}
}

// reapChunk deletes up to reapChunk entries below the first folder in the
// trash; folders found below go to the trash themselves. done: the trash
// is empty.
func (t *Tx) reapChunk() (done bool, err error) {
	trash := t.bucket(bucketFileTrash)
	k, _ := trash.Cursor().First()
	if k == nil {
		return true, nil
	}
	prefix := bytes.Clone(k)
	entries := t.bucket(bucketFileEntries)
	c := entries.Cursor()
	n := 0
	for ck, v := c.Seek(prefix); ck != nil && bytes.HasPrefix(ck, prefix); ck, v = c.Seek(prefix) {
		if n == reapChunk {
			return false, nil
		}
		var e FileEntry
		if err := decodeEntry(v, &e); err != nil {
			return false, err
		}
		if err := entries.Delete(bytes.Clone(ck)); err != nil {
			return false, err
		}
		if err := t.discard(&e); err != nil {
			return false, err
		}
		n++
	}
	return false, trash.Delete(prefix)
}
