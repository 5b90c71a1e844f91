// Login and IDLE fan-out latency: idle clients log in one after another
// (each LOGIN timed), select INBOX and IDLE; then one sender submits,
// round after round, one message to all of them, and each idle client
// times how long after the end of DATA its EXISTS arrived. That is the
// push a phone waits for, so it must not grow with the size of the
// school (scale_compare.sh). At the end the idle clients expunge what the
// run delivered.

package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// FanoutOptions configure RunFanout.
type FanoutOptions struct {
	IMAPAddr, SMTPAddr string
	TLS                TLSMode
	InsecureSkipVerify bool
	// Users[0] sends; every other user is an idle client.
	Users  []Cred
	Rounds int           // messages sent, one after another
	Wait   time.Duration // how long a round waits for every EXISTS; default 10 s
	Seed   uint64
}

func (o *FanoutOptions) defaults() error {
	if len(o.Users) < 2 {
		return errors.New("bench: fan-out needs a sender and at least one idle client")
	}
	if o.TLS == "" {
		o.TLS = TLSNone
	}
	if o.Rounds <= 0 {
		o.Rounds = 20
	}
	if o.Wait <= 0 {
		o.Wait = 10 * time.Second
	}
	return nil
}

// idler is one idle client; exists receives every message count the
// server announces, with the time it arrived.
type idler struct {
	c      *imapclient.Client
	idle   *imapclient.IdleCommand
	exists chan announced
	count  uint32
	next   imap.UID // UIDNEXT at SELECT: what the run delivered is from here
}

type announced struct {
	n  uint32
	at time.Time
}

// RunFanout reports "login" (connect and LOGIN), "select", "message" (MAIL
// FROM to the 250 after DATA) and "idle_exists" (the end of DATA to the
// EXISTS at each idle client, one sample per client and round).
func RunFanout(ctx context.Context, o FanoutOptions) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	rec := newRecorder()
	res := &Result{Kind: "fanout", Addr: o.IMAPAddr, TLS: o.TLS, Workers: len(o.Users) - 1}
	start := time.Now()
	defer func() {
		res.Wall = time.Since(start)
		rec.fill(res)
	}()
	var idlers []*idler
	defer func() {
		for _, d := range idlers {
			if d.idle != nil {
				d.idle.Close()
			}
			d.c.Close()
		}
	}()
	for _, u := range o.Users[1:] {
		d := &idler{exists: make(chan announced, 64)}
		opts := &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(m *imapclient.UnilateralDataMailbox) {
				if m.NumMessages != nil {
					select {
					case d.exists <- announced{*m.NumMessages, time.Now()}:
					default: // the round waits for a higher count anyway
					}
				}
			}}}
		t0 := time.Now()
		c, err := dialIMAP(o.IMAPAddr, o.TLS, o.InsecureSkipVerify, opts)
		if err == nil {
			if err = c.Login(u.User, u.Password).Wait(); err != nil {
				c.Close()
			}
		}
		if err != nil {
			return res, fmt.Errorf("login %s: %w", u.User, err)
		}
		rec.ok("login", time.Since(t0))
		d.c = c
		idlers = append(idlers, d)
		t0 = time.Now()
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			return res, fmt.Errorf("select %s: %w", u.User, err)
		}
		rec.ok("select", time.Since(t0))
		d.count, d.next = sel.NumMessages, sel.UIDNext
		if d.idle, err = c.Idle(); err != nil {
			return res, fmt.Errorf("idle %s: %w", u.User, err)
		}
	}
	sender := o.Users[0]
	s, err := dialSubmission(o.SMTPAddr, o.TLS, o.InsecureSkipVerify, &sender)
	if err != nil {
		return res, fmt.Errorf("smtp %s: %w", sender.User, err)
	}
	defer s.Close()
	rcpts := make([]string, len(o.Users)-1)
	for i, u := range o.Users[1:] {
		rcpts[i] = u.Address
	}
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	for range o.Rounds {
		if ctx.Err() != nil {
			break
		}
		msg := message(rng, sender.Address, rcpts[0], 4<<10)
		t0 := time.Now()
		dataEnd, err := sendMessage(s, sender.Address, rcpts, msg)
		if err != nil {
			return res, fmt.Errorf("send: %w", err)
		}
		rec.ok("message", time.Since(t0))
		deadline := time.After(o.Wait)
		for _, d := range idlers {
			want := d.count + 1
			for d.count < want {
				select {
				case a := <-d.exists:
					if a.n >= want {
						rec.ok("idle_exists", a.at.Sub(dataEnd))
					}
					d.count = max(d.count, a.n)
				case <-deadline:
					return res, fmt.Errorf("no EXISTS %d within %s", want, o.Wait)
				}
			}
		}
		if err := s.Reset(); err != nil {
			return res, err
		}
	}
	s.Quit()
	// The run's messages go again, so the next run (or the IMAP mix)
	// finds the mailboxes as they were.
	for _, d := range idlers {
		if err := d.idle.Close(); err != nil {
			return res, err
		}
		d.idle = nil
		mine := imap.UIDSet{imap.UIDRange{Start: d.next, Stop: 0}}
		if err := d.c.Store(mine, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return res, err
		}
		if err := d.c.Expunge().Close(); err != nil {
			return res, err
		}
	}
	return res, nil
}
