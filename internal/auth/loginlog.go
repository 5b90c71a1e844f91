package auth

import (
	"log/slog"

	"schulhof/store"
)

// logQueue writes login records in the background, many per commit, so a
// login does not wait for an fsync of its log line. Close flushes it; a
// power cut can lose the records of the last few milliseconds.
type logQueue struct {
	st   *store.Store
	log  *slog.Logger
	c    chan any // store.LoginRecord, or a chan struct{} to signal a flush
	done chan struct{}
}

func newLogQueue(st *store.Store, log *slog.Logger) *logQueue {
	q := &logQueue{st: st, log: log, c: make(chan any, 4096), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *logQueue) add(r store.LoginRecord) { q.c <- r }

func (q *logQueue) run() {
	defer close(q.done)
	for item := range q.c {
		var batch []store.LoginRecord
		var flushed []chan struct{}
		take := func(it any) {
			switch x := it.(type) {
			case store.LoginRecord:
				batch = append(batch, x)
			case chan struct{}:
				flushed = append(flushed, x)
			}
		}
		take(item)
	drain:
		for len(batch) < 1000 {
			select {
			case it, ok := <-q.c:
				if !ok {
					break drain
				}
				take(it)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			if err := q.st.RecordLogins(batch); err != nil {
				q.log.Error("login log", "err", err, "lost", len(batch))
			}
		}
		for _, f := range flushed {
			close(f)
		}
	}
}

// Flush waits until every login recorded so far is committed.
func (v *Verifier) Flush() {
	f := make(chan struct{})
	v.logq.c <- f
	<-f
}

// Close flushes the login log and stops its writer. The Verifier must not
// be used afterwards.
func (v *Verifier) Close() {
	close(v.logq.c)
	<-v.logq.done
}
