// End-to-end delivery check for the SMTP load: count messages in the
// recipients' INBOXes over IMAP (STATUS MESSAGES) against a baseline taken
// before the first message was sent.

package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// pollParallel bounds the IMAP connections opened and polled at once.
const pollParallel = 8

type pollUser struct {
	cred Cred
	c    *imapclient.Client
	base uint32
}

type poller struct {
	users map[string]*pollUser // by lower-cased address
}

func newPoller(ctx context.Context, v *VerifyOptions, creds []Cred) (*poller, error) {
	p := &poller{users: map[string]*pollUser{}}
	for _, c := range creds {
		p.users[strings.ToLower(c.Address)] = &pollUser{cred: c}
	}
	err := p.each(ctx, p.list(), func(u *pollUser) error {
		c, err := dialIMAP(v.Addr, v.TLS, v.InsecureSkipVerify, nil)
		if err != nil {
			return err
		}
		if err := c.Login(u.cred.User, u.cred.Password).Wait(); err != nil {
			c.Close()
			return fmt.Errorf("login %s: %w", u.cred.User, err)
		}
		u.c = c
		u.base, err = inboxCount(c)
		return err
	})
	if err != nil {
		p.close()
		return nil, fmt.Errorf("bench: delivery check: %w", err)
	}
	return p, nil
}

func (p *poller) list() []*pollUser {
	out := make([]*pollUser, 0, len(p.users))
	for _, u := range p.users {
		out = append(out, u)
	}
	return out
}

func (p *poller) knows(addr string) bool { return p.users[strings.ToLower(addr)] != nil }

// each runs f for every user, pollParallel at a time; the first error wins.
func (p *poller) each(ctx context.Context, users []*pollUser, f func(*pollUser) error) error {
	sem := make(chan struct{}, pollParallel)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for _, u := range users {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := f(u); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

func inboxCount(c *imapclient.Client) (uint32, error) {
	d, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0, err
	}
	if d.NumMessages == nil {
		return 0, fmt.Errorf("STATUS without MESSAGES")
	}
	return *d.NumMessages, nil
}

// wait polls until every expected delivery arrived or v.Timeout passed. It
// returns the deliveries found (at most the expected number per recipient)
// and the time of the poll that found the last of them.
func (p *poller) wait(ctx context.Context, expected map[string]int, v *VerifyOptions) (int, time.Time, error) {
	want := map[*pollUser]int{}
	total := 0
	for a, n := range expected {
		if u := p.users[strings.ToLower(a)]; u != nil && n > 0 {
			want[u] += n
			total += n
		}
	}
	done := 0
	deadline := time.Now().Add(v.Timeout)
	for {
		pending := make([]*pollUser, 0, len(want))
		for u := range want {
			pending = append(pending, u)
		}
		var mu sync.Mutex
		partial := 0
		err := p.each(ctx, pending, func(u *pollUser) error {
			n, err := inboxCount(u.c)
			if err != nil {
				return err
			}
			got := int(n) - int(u.base)
			mu.Lock()
			defer mu.Unlock()
			if got >= want[u] {
				done += want[u]
				delete(want, u)
			} else if got > 0 {
				partial += got
			}
			return nil
		})
		now := time.Now()
		if err != nil {
			return done + partial, now, fmt.Errorf("bench: delivery check: %w", err)
		}
		if len(want) == 0 {
			return done, now, nil
		}
		if now.After(deadline) {
			return done + partial, now, fmt.Errorf("bench: only %d of %d deliveries arrived within %v", done+partial, total, v.Timeout)
		}
		sleepCtx(ctx, v.Interval)
		if ctx.Err() != nil {
			return done + partial, time.Now(), ctx.Err()
		}
	}
}

func (p *poller) close() {
	for _, u := range p.users {
		if u.c != nil {
			u.c.Logout().Wait()
			u.c.Close()
		}
	}
}
