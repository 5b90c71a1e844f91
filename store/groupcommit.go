package store

import (
	"errors"
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Group commit: writers that arrive while a commit is in flight share the
// next one, so N concurrent small writes (IMAP STOREs, deliveries) cost
// about one fsync instead of N, and a writer alone never waits for a
// timer (bbolt's Batch waits up to MaxBatchDelay, 10 ms by default, for
// company). Every caller returns only after the commit holding its change
// is durable.
type groupCommit struct {
	mu      sync.Mutex
	pending []*groupCall
	running bool // a leader is committing; new calls wait for the next round
}

type groupCall struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// maxGroup bounds how many calls one transaction carries, so one commit
// stays short.
const maxGroup = 256

// errAlone asks a call to run in a transaction of its own: it failed in a
// shared one, and its error may have depended on the others' changes.
var errAlone = errors.New("store: run alone")

// groupUpdate runs fn in a write transaction, possibly shared with other
// concurrent callers. fn may run more than once and must not have side
// effects outside the transaction.
func (s *Store) groupUpdate(fn func(*bolt.Tx) error) error {
	c := &groupCall{fn: fn, err: make(chan error, 1)}
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		s.leadGroup()
	}
	err := <-c.err
	if err == errAlone {
		// Alone, a panic is still an error, not a crash of the caller.
		return s.db.Update(func(tx *bolt.Tx) error { return callSafely(fn, tx) })
	}
	return err
}

// leadGroup commits what is pending now. Whoever arrived meanwhile is
// committed by a new leader, so this caller's answer is not delayed by
// later ones.
func (s *Store) leadGroup() {
	g := &s.group
	g.mu.Lock()
	n := min(len(g.pending), maxGroup)
	calls := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()

	s.commitGroup(calls)

	g.mu.Lock()
	more := len(g.pending) > 0
	g.running = more
	g.mu.Unlock()
	if more {
		go s.leadGroup()
	}
}

// maxGroupFailures bounds the reruns of one group: every failed call
// costs a rerun of the others, and file writes fail often in normal use
// (MKCOL of a name that exists, a quota). Past the bound the calls behind
// the failed one run alone, so a burst of failing requests cannot hold
// the writer for long.
const maxGroupFailures = 3

// commitGroup runs calls in one transaction. A call that fails is taken
// out (and told to run alone) and the rest run again without it.
func (s *Store) commitGroup(calls []*groupCall) {
	failures := 0
	for len(calls) > 0 {
		failed := -1
		err := s.observedUpdate(true, func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := callSafely(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 && len(calls) > 1 {
			calls[failed].err <- errAlone
			if failures++; failures >= maxGroupFailures {
				// The calls before the failed one have just passed in
				// this order: they commit together, the rest run alone.
				for _, c := range calls[failed+1:] {
					c.err <- errAlone
				}
				calls = calls[:failed:failed]
				continue
			}
			calls = append(calls[:failed:failed], calls[failed+1:]...)
			continue
		}
		for _, c := range calls {
			c.err <- err
		}
		return
	}
}

// callSafely keeps one caller's panic from taking down the others' commit
// (and the leader's goroutine).
func callSafely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: panic in write transaction: %v", p)
		}
	}()
	return fn(tx)
}
