package links

import (
	"io"
	"iter"
)

// pullWriter feeds what is written to it to a function that reads (the
// HTML tokenizer), run as a coroutine: one decoded stream can feed several
// such readers in turn, without goroutines, buffering a part or locks.
type pullWriter struct {
	next func() (struct{}, bool)
	stop func()
	buf  []byte // written, not yet read
	eof  bool
	done bool // the reader returned
	err  error
}

func newPullWriter(read func(io.Reader) error) *pullWriter {
	w := &pullWriter{}
	w.next, w.stop = iter.Pull(func(yield func(struct{}) bool) {
		w.err = read(&pullReader{w: w, yield: yield})
		w.done = true
	})
	return w
}

// pullReader is the reading side: when it runs dry it yields to the
// writer, which resumes it with more.
type pullReader struct {
	w     *pullWriter
	yield func(struct{}) bool
}

func (r *pullReader) Read(p []byte) (int, error) {
	for len(r.w.buf) == 0 {
		if r.w.eof || !r.yield(struct{}{}) {
			return 0, io.EOF
		}
	}
	n := copy(p, r.w.buf)
	r.w.buf = r.w.buf[n:]
	return n, nil
}

func (w *pullWriter) Write(p []byte) (int, error) {
	w.buf = p
	for len(w.buf) > 0 && !w.done {
		if _, ok := w.next(); !ok {
			break
		}
	}
	w.buf = nil // p is the caller's: not kept
	return len(p), nil
}

// Close ends the stream and waits for the reader to finish.
func (w *pullWriter) Close() error {
	w.eof = true
	for !w.done {
		if _, ok := w.next(); !ok {
			break
		}
	}
	w.stop()
	return w.err
}
