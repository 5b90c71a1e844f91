package web

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"schulhof/policy"
)

// pace bounds how slowly a client may send a request body or take a
// response (LIMIT-TIMEOUT): after a grace of header_timeout_seconds,
// data must move at body_min_bytes_per_second on average, and no single
// wait may last longer than the grace. A 20 MB upload at 100 KB/s is
// well inside; a client trickling a byte a second is cut after the grace.
// Time the handler itself spends (hashing, the store) is not counted.
type pace struct {
	grace time.Duration
	rate  int64 // bytes per second
}

func newPace(p *policy.Engine) pace {
	return pace{
		grace: time.Duration(p.Bound(policy.HeaderTimeoutSeconds)) * time.Second,
		rate:  p.Bound(policy.BodyMinBytesPerSecond),
	}
}

// allowance is the time n bytes may take at the minimum rate.
func (p pace) allowance(n int64) time.Duration {
	return time.Duration(float64(n) / float64(p.rate) * float64(time.Second))
}

// nextWait is how long the next read may wait after n bytes came in
// waited: what is left of grace plus their allowance, never more than
// grace at once (a fast start buys no long stall). Zero or less: too slow.
func (p pace) nextWait(n int64, waited time.Duration) time.Duration {
	return min(p.grace+p.allowance(n)-waited, p.grace)
}

// wrap sets the read deadlines of the request body and the write
// deadlines of the response as data moves (http.ResponseController); the
// server itself has no ReadTimeout or WriteTimeout, which would cut a long
// upload or download however fast it goes.
func (p pace) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body != nil && r.Body != http.NoBody {
			// Also bounds what the server discards of a body the handler
			// did not read (a refused upload).
			rc.SetReadDeadline(time.Now().Add(p.grace))
			r.Body = &pacedBody{ReadCloser: r.Body, rc: rc, pace: p}
		}
		rc.SetWriteDeadline(time.Time{}) // not the last response's
		pw := &pacedWriter{ResponseWriter: w, rc: rc, pace: p}
		next.ServeHTTP(pw, r)
		if !pw.hijacked {
			rc.SetWriteDeadline(time.Now().Add(p.grace)) // the final flush
		}
	})
}

// pacedBody extends the read deadline as the body arrives.
type pacedBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	pace   pace
	n      int64         // bytes received
	waited time.Duration // time spent waiting for them
	done   bool
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	start := time.Now()
	b.rc.SetReadDeadline(start.Add(b.pace.nextWait(b.n, b.waited)))
	n, err := b.ReadCloser.Read(p)
	b.waited += time.Since(start)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		// The server's own background read must not inherit it.
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = b.pace.tooSlow(err)
	}
	return n, err
}

// tooSlow is a body cut for LIMIT-TIMEOUT: it is both the timeout and
// the refusal, so davd answers 408 naming the rule.
type tooSlow struct {
	timeout error
	refusal error // *policy.RefusalError
}

func (e tooSlow) Unwrap() []error { return []error{e.timeout, e.refusal} }
func (e tooSlow) Error() string   { return e.refusal.Error() }

func (p pace) tooSlow(timeout error) error {
	return tooSlow{timeout, policy.Deny(policy.LimitTimeout,
		"Die Daten kamen zu langsam: nach %d s müssen mindestens %d Bytes/s ankommen (%s, %s).",
		int(p.grace/time.Second), p.rate, policy.HeaderTimeoutSeconds, policy.BodyMinBytesPerSecond).Err()}
}

// pacedWriter gives each chunk of the response its time to leave.
type pacedWriter struct {
	http.ResponseWriter
	rc       *http.ResponseController
	pace     pace
	hijacked bool
}

// chunk is what one write deadline covers: a slow client is cut within
// grace + chunk/rate of its last progress.
const chunk = 64 << 10

func (w *pacedWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		c := p[:min(len(p), chunk)]
		w.rc.SetWriteDeadline(time.Now().Add(w.pace.grace + w.pace.allowance(int64(len(c)))))
		n, err := w.ResponseWriter.Write(c)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush and Hijack for handlers that assert the interfaces directly.
func (w *pacedWriter) Flush() { w.rc.Flush() }

func (w *pacedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := w.rc.Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}
