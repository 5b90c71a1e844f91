// SMTP submission load: N connections, each authenticated once, sending
// messages back to back over the same connection.

package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPOptions configure RunSMTP.
type SMTPOptions struct {
	Addr               string
	TLS                TLSMode
	InsecureSkipVerify bool // accept a self-signed certificate
	// Users authenticate the connections (connection i uses Users[i%len]);
	// each sends as its own address, as a submission server demands.
	Users []Cred
	// Recipients picks the recipients of one message from sender. nil: one
	// random address of Rcpts, or, without Rcpts, one random other user.
	Recipients func(rng *rand.Rand, from Cred) []string
	Rcpts      []string
	Conns      int
	Messages   int           // total messages; 0: send until Duration is over
	Duration   time.Duration // used when Messages is 0
	Size       int           // message size in bytes (headers included)
	Seed       uint64
	// NoAuth skips AUTH: for servers that take mail without it (smtp-sink,
	// Postfix port 25), to show the upper bound of the generator itself.
	NoAuth bool
	// Verify, if set, checks end-to-end delivery after sending: it polls the
	// recipients' INBOX message counts (IMAP STATUS) until every accepted
	// delivery arrived or Verify.Timeout passed.
	Verify *VerifyOptions
}

// VerifyOptions say where and how to count delivered messages.
type VerifyOptions struct {
	Addr               string // IMAP server of the recipients
	TLS                TLSMode
	InsecureSkipVerify bool
	Timeout            time.Duration // after sending ended; default 2 min
	Interval           time.Duration // between polls; default 100 ms
}

func (o *SMTPOptions) defaults() error {
	if o.Addr == "" {
		return errors.New("bench: no SMTP address")
	}
	if len(o.Users) == 0 {
		return errors.New("bench: no users")
	}
	if o.TLS == "" {
		o.TLS = TLSNone
	}
	if o.Conns <= 0 {
		o.Conns = 1
	}
	if o.Messages <= 0 && o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Size <= 0 {
		o.Size = 10 << 10
	}
	if o.Recipients == nil {
		rcpts, users := o.Rcpts, o.Users
		o.Recipients = func(rng *rand.Rand, from Cred) []string {
			if len(rcpts) > 0 {
				return []string{rcpts[rng.IntN(len(rcpts))]}
			}
			to := users[rng.IntN(len(users))]
			for len(users) > 1 && to.Address == from.Address {
				to = users[rng.IntN(len(users))]
			}
			return []string{to.Address}
		}
	}
	if v := o.Verify; v != nil {
		if v.TLS == "" {
			v.TLS = TLSNone
		}
		if v.Timeout <= 0 {
			v.Timeout = 2 * time.Minute
		}
		if v.Interval <= 0 {
			v.Interval = 100 * time.Millisecond
		}
	}
	return nil
}

// RunSMTP runs the submission load and reports messages accepted per second
// and the latency of each message from MAIL FROM to the 250 after DATA.
// With opts.Verify it also reports deliveries found in the INBOXes, which
// for a queueing MTA (Postfix → Dovecot) trail the acceptances.
func RunSMTP(ctx context.Context, opts SMTPOptions) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	var poll *poller
	if opts.Verify != nil {
		var err error
		// The baseline counts are taken before the first message.
		if poll, err = newPoller(ctx, opts.Verify, opts.Users); err != nil {
			return nil, err
		}
		defer poll.close()
	}

	workers := make([]*smtpWorker, opts.Conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := &smtpWorker{opts: &opts, cred: opts.Users[i%len(opts.Users)], rec: newRecorder(),
			rng: rand.New(rand.NewPCG(opts.Seed, uint64(i))), expected: map[string]int{}}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.connect() }()
	}
	wg.Wait() // every connection is authenticated before the clock starts
	connected := 0
	var setupErr error
	for _, w := range workers {
		if w.c != nil {
			connected++
		} else if setupErr == nil {
			setupErr = w.lastErr
		}
	}
	if connected == 0 {
		return nil, fmt.Errorf("bench: no SMTP connection could authenticate: %w", setupErr)
	}

	start := time.Now()
	runCtx := ctx
	if opts.Messages <= 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithDeadline(ctx, start.Add(opts.Duration))
		defer cancel()
	}
	var claimed atomic.Int64
	for _, w := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.loop(runCtx, &claimed) }()
	}
	wg.Wait()
	sent := time.Since(start)

	res := &Result{Kind: "smtp", Addr: opts.Addr, TLS: opts.TLS, Workers: opts.Conns, Size: opts.Size, Wall: sent}
	all := newRecorder()
	expected := map[string]int{}
	for _, w := range workers {
		all.merge(w.rec)
		for a, n := range w.expected {
			expected[a] += n
		}
		w.quit()
	}
	all.fill(res)
	res.Accepted = res.Total.Count
	res.AcceptedPerSec = res.Total.PerSec

	if poll != nil {
		res.Verified = true
		for a, n := range expected {
			if poll.knows(a) {
				res.Expected += n
			}
		}
		delivered, at, err := poll.wait(ctx, expected, opts.Verify)
		res.Delivered = delivered
		res.DeliveredS = at.Sub(start).Seconds()
		if res.DeliveredS > 0 {
			res.DeliveredPerSec = float64(delivered) / res.DeliveredS
		}
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// smtpWorker is one connection and its statistics.
type smtpWorker struct {
	opts     *SMTPOptions
	cred     Cred
	c        *smtp.Client
	rng      *rand.Rand
	rec      *recorder
	expected map[string]int // accepted deliveries per recipient address
	lastErr  error
}

// connect dials and authenticates; on failure w.c stays nil and the
// error is counted.
func (w *smtpWorker) connect() {
	var cred *Cred
	if !w.opts.NoAuth {
		cred = &w.cred
	}
	c, err := dialSubmission(w.opts.Addr, w.opts.TLS, w.opts.InsecureSkipVerify, cred)
	if err != nil {
		w.lastErr = err
		w.rec.fail("connect", "connect "+smtpKind(err), err)
		return
	}
	w.c = c
}

// dialSubmission connects, says EHLO and, with cred, authenticates (AUTH
// PLAIN): the start of every SMTP client here.
func dialSubmission(addr string, mode TLSMode, insecure bool, cred *Cred) (*smtp.Client, error) {
	var c *smtp.Client
	var err error
	switch mode {
	case TLSStartTLS:
		c, err = smtp.DialStartTLS(addr, tlsConfig(addr, insecure))
	case TLSImplicit:
		c, err = smtp.DialTLS(addr, tlsConfig(addr, insecure))
	default:
		c, err = smtp.Dial(addr)
	}
	if err != nil {
		return nil, err
	}
	c.CommandTimeout = time.Minute
	c.SubmissionTimeout = time.Minute
	if err = c.Hello("bench.invalid"); err == nil && cred != nil {
		err = c.Auth(sasl.NewPlainClient("", cred.User, cred.Password))
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// loop sends messages until ctx ends or the shared message budget is used.
func (w *smtpWorker) loop(ctx context.Context, claimed *atomic.Int64) {
	for ctx.Err() == nil {
		if w.opts.Messages > 0 && claimed.Add(1) > int64(w.opts.Messages) {
			return
		}
		if w.c == nil {
			w.connect()
			if w.c == nil {
				sleepCtx(ctx, 200*time.Millisecond) // server refusing: do not spin
				continue
			}
		}
		rcpts := w.opts.Recipients(w.rng, w.cred)
		msg := message(w.rng, w.cred.Address, rcpts[0], w.opts.Size)
		t0 := time.Now()
		err := w.send(rcpts, msg)
		d := time.Since(t0)
		if err == nil {
			w.rec.ok("message", d)
			for _, r := range rcpts {
				w.expected[r]++
			}
		} else {
			w.rec.fail("message", smtpKind(err), err)
		}
		var smtpErr *smtp.SMTPError
		if err != nil && !errors.As(err, &smtpErr) { // connection broken: start over
			w.c.Close()
			w.c = nil
			continue
		}
		if err := w.c.Reset(); err != nil {
			w.rec.fail("rset", smtpKind(err), err)
			w.c.Close()
			w.c = nil
		}
	}
}

func (w *smtpWorker) send(rcpts []string, msg []byte) error {
	_, err := sendMessage(w.c, w.cred.Address, rcpts, msg)
	return err
}

// sendMessage sends one message and returns when the end of its DATA went
// out (before the 250), for the fan-out's timing.
func sendMessage(c *smtp.Client, from string, rcpts []string, msg []byte) (dataEnd time.Time, err error) {
	if err = c.Mail(from, nil); err != nil {
		return
	}
	for _, r := range rcpts {
		if err = c.Rcpt(r, nil); err != nil {
			return
		}
	}
	wc, err := c.Data()
	if err != nil {
		return
	}
	if _, err = wc.Write(msg); err != nil {
		wc.Close()
		return
	}
	dataEnd = time.Now()
	err = wc.Close()
	return
}

func (w *smtpWorker) quit() {
	if w.c != nil {
		w.c.Quit()
		w.c.Close()
	}
}

// smtpKind names an error for the error table: the reply code, or "conn".
func smtpKind(err error) string {
	var e *smtp.SMTPError
	if errors.As(err, &e) {
		return strconv.Itoa(e.Code)
	}
	return "conn"
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
