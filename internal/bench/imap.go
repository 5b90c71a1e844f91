// IMAP client load: N clients, each logged in as its own user with INBOX
// selected, issuing a weighted mix of the commands a mail client sends.

package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// IMAP operations of the mix. Each is one IMAP command, except "expunge"
// (UID STORE +FLAGS \Deleted of the messages this client appended, then
// EXPUNGE, counted as a "store" and an "expunge") and "idle" (IDLE, a short
// wait, DONE; the wait is not part of its latency).
const (
	OpSelect       = "select"        // SELECT INBOX again
	OpFetchHeaders = "fetch_headers" // FETCH last 20 (ENVELOPE FLAGS UID RFC822.SIZE)
	OpFetchBody    = "fetch_body"    // FETCH one random message BODY.PEEK[]
	OpStore        = "store"         // STORE +FLAGS or -FLAGS \Seen on a random message
	OpSearchUnseen = "search_unseen" // UID SEARCH UNSEEN
	OpSearchText   = "search_text"   // UID SEARCH SUBJECT word / BODY word
	OpAppend       = "append"        // APPEND a ~2 KB message to INBOX
	OpExpunge      = "expunge"       // remove what this client appended
	OpIdle         = "idle"          // IDLE + DONE
	OpNoop         = "noop"          // NOOP (a client's poll)
)

// Weight is one operation's share of the mix.
type Weight struct {
	Op     string `json:"op"`
	Weight int    `json:"weight"`
}

// DefaultMix resembles a desktop client reading and filing mail: mostly
// header listings, bodies and flag changes, some searches, a few appends
// (sent copies, drafts) and expunges, polls and IDLE.
var DefaultMix = []Weight{
	{OpSelect, 5},
	{OpFetchHeaders, 20},
	{OpFetchBody, 20},
	{OpStore, 15},
	{OpSearchUnseen, 6},
	{OpSearchText, 6},
	{OpAppend, 6},
	{OpExpunge, 2},
	{OpIdle, 5},
	{OpNoop, 15},
}

// IMAPOptions configure RunIMAP.
type IMAPOptions struct {
	Addr               string
	TLS                TLSMode
	InsecureSkipVerify bool
	Users              []Cred // client i logs in as Users[i%len]
	Clients            int
	Duration           time.Duration
	Seed               uint64
	Mix                []Weight      // nil: DefaultMix
	IdleFor            time.Duration // time spent in IDLE before DONE; default 20 ms
	// Prepare, if > 0, first fills the INBOX of every user a client uses
	// up to this many messages (1–16 KB, deterministic from Seed), so every
	// server starts from the same mailboxes.
	Prepare int
}

func (o *IMAPOptions) defaults() error {
	if o.Addr == "" {
		return errors.New("bench: no IMAP address")
	}
	if len(o.Users) == 0 {
		return errors.New("bench: no users")
	}
	if o.TLS == "" {
		o.TLS = TLSNone
	}
	if o.Clients <= 0 {
		o.Clients = 1
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Mix == nil {
		o.Mix = DefaultMix
	}
	if o.IdleFor <= 0 {
		o.IdleFor = 20 * time.Millisecond
	}
	for _, w := range o.Mix {
		if !knownOps[w.Op] || w.Weight < 0 {
			return fmt.Errorf("bench: bad mix entry %s=%d", w.Op, w.Weight)
		}
	}
	return nil
}

var knownOps = map[string]bool{OpSelect: true, OpFetchHeaders: true, OpFetchBody: true, OpStore: true,
	OpSearchUnseen: true, OpSearchText: true, OpAppend: true, OpExpunge: true, OpIdle: true, OpNoop: true}

// ParseMix reads "fetch_body=20,noop=5,..." into a mix; operations not named
// get weight 0.
func ParseMix(s string) ([]Weight, error) {
	var mix []Weight
	for _, part := range strings.Split(s, ",") {
		op, n, ok := strings.Cut(strings.TrimSpace(part), "=")
		var w int
		if _, err := fmt.Sscan(n, &w); !ok || err != nil || !knownOps[op] || w < 0 {
			return nil, fmt.Errorf("mix entry %q: want op=weight, ops: %s", part, mixOps())
		}
		mix = append(mix, Weight{op, w})
	}
	return mix, nil
}

func mixOps() string {
	var ops []string
	for _, w := range DefaultMix {
		ops = append(ops, w.Op)
	}
	return strings.Join(ops, " ")
}

func dialIMAP(addr string, mode TLSMode, insecure bool, o *imapclient.Options) (*imapclient.Client, error) {
	if o == nil {
		o = &imapclient.Options{}
	}
	o.TLSConfig = tlsConfig(addr, insecure)
	switch mode {
	case TLSStartTLS:
		return imapclient.DialStartTLS(addr, o)
	case TLSImplicit:
		return imapclient.DialTLS(addr, o)
	}
	return imapclient.DialInsecure(addr, o)
}

// Prepare fills the INBOX of every user the clients will use up to
// opts.Prepare messages. It appends only what is missing, so running it
// twice changes nothing.
// It returns the smallest and largest INBOX size it left behind.
func Prepare(ctx context.Context, opts IMAPOptions) (minMsgs, maxMsgs int, err error) {
	if err := opts.defaults(); err != nil {
		return 0, 0, err
	}
	var mu sync.Mutex
	minMsgs = -1
	n := min(opts.Clients, len(opts.Users))
	p := &poller{}
	users := make([]*pollUser, n)
	for i := range users {
		users[i] = &pollUser{cred: opts.Users[i]}
	}
	err = p.each(ctx, users, func(u *pollUser) error {
		c, err := dialIMAP(opts.Addr, opts.TLS, opts.InsecureSkipVerify, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Login(u.cred.User, u.cred.Password).Wait(); err != nil {
			return fmt.Errorf("login %s: %w", u.cred.User, err)
		}
		have, err := inboxCount(c)
		if err != nil {
			return err
		}
		h := fnv.New64a()
		h.Write([]byte(u.cred.User))
		rng := rand.New(rand.NewPCG(opts.Seed, h.Sum64()+uint64(have)))
		for i := int(have); i < opts.Prepare && ctx.Err() == nil; i++ {
			msg := message(rng, u.cred.Address, u.cred.Address, 1<<10+rng.IntN(15<<10))
			if _, err := appendMsg(c, msg); err != nil {
				return fmt.Errorf("append for %s: %w", u.cred.User, err)
			}
		}
		mu.Lock()
		n := max(int(have), opts.Prepare)
		if minMsgs < 0 || n < minMsgs {
			minMsgs = n
		}
		maxMsgs = max(maxMsgs, n)
		mu.Unlock()
		c.Logout().Wait()
		return ctx.Err()
	})
	return minMsgs, maxMsgs, err
}

func appendMsg(c *imapclient.Client, msg []byte) (*imap.AppendData, error) {
	cmd := c.Append("INBOX", int64(len(msg)), nil)
	if _, err := cmd.Write(msg); err != nil {
		cmd.Close()
		return nil, err
	}
	if err := cmd.Close(); err != nil {
		return nil, err
	}
	return cmd.Wait()
}

// RunIMAP runs the mixed client load for opts.Duration and reports commands
// per second and latencies, overall and per operation.
func RunIMAP(ctx context.Context, opts IMAPOptions) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	var inboxMin, inboxMax int
	if opts.Prepare > 0 {
		var err error
		if inboxMin, inboxMax, err = Prepare(ctx, opts); err != nil {
			return nil, fmt.Errorf("bench: prepare: %w", err)
		}
	}
	var total int
	for _, w := range opts.Mix {
		total += w.Weight
	}
	if total == 0 {
		return nil, errors.New("bench: the mix has no weight")
	}

	workers := make([]*imapWorker, opts.Clients)
	var wg sync.WaitGroup
	for i := range workers {
		w := &imapWorker{opts: &opts, cred: opts.Users[i%len(opts.Users)], rec: newRecorder(),
			rng: rand.New(rand.NewPCG(opts.Seed, uint64(i))), total: total}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.connect() }()
	}
	wg.Wait() // all clients logged in with INBOX selected before the clock starts
	var setupErr error
	connected := 0
	for _, w := range workers {
		if w.c != nil {
			connected++
		} else if setupErr == nil {
			setupErr = w.lastErr
		}
	}
	if connected == 0 {
		return nil, fmt.Errorf("bench: no IMAP client could log in: %w", setupErr)
	}

	start := time.Now()
	runCtx, cancel := context.WithDeadline(ctx, start.Add(opts.Duration))
	defer cancel()
	for _, w := range workers {
		wg.Add(1)
		go func() { defer wg.Done(); w.loop(runCtx) }()
	}
	wg.Wait()
	res := &Result{Kind: "imap", Addr: opts.Addr, TLS: opts.TLS, Workers: opts.Clients, Wall: time.Since(start),
		InboxMin: inboxMin, InboxMax: inboxMax}
	all := newRecorder()
	for _, w := range workers {
		all.merge(w.rec)
		w.logout()
	}
	all.fill(res)
	return res, nil
}

// imapWorker is one client and its statistics.
type imapWorker struct {
	opts     *IMAPOptions
	cred     Cred
	c        *imapclient.Client
	rng      *rand.Rand
	rec      *recorder
	total    int
	appended []imap.UID // messages this client appended and may expunge
	lastErr  error
}

// connect dials, logs in and selects INBOX; on failure w.c stays nil.
func (w *imapWorker) connect() {
	o := w.opts
	c, err := dialIMAP(o.Addr, o.TLS, o.InsecureSkipVerify, nil)
	if err == nil {
		if err = c.Login(w.cred.User, w.cred.Password).Wait(); err == nil {
			_, err = c.Select("INBOX", nil).Wait()
		}
		if err != nil {
			c.Close()
		}
	}
	if err != nil {
		w.lastErr = err
		w.rec.fail("connect", "connect "+imapKind(err), err)
		return
	}
	w.c = c
	w.appended = nil
}

func (w *imapWorker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		if w.c == nil {
			w.connect()
			if w.c == nil {
				sleepCtx(ctx, 200*time.Millisecond)
				continue
			}
		}
		op := w.pick()
		if err := w.do(op); err != nil {
			var ie *imap.Error
			if !errors.As(err, &ie) { // connection broken: start over
				w.c.Close()
				w.c = nil
			}
		}
	}
}

func (w *imapWorker) pick() string {
	n := w.rng.IntN(w.total)
	for _, m := range w.opts.Mix {
		if n < m.Weight {
			return m.Op
		}
		n -= m.Weight
	}
	return OpNoop
}

// timed runs one command and records its latency or its error.
func (w *imapWorker) timed(op string, f func() error) error {
	t0 := time.Now()
	err := f()
	if err != nil {
		w.rec.fail(op, strings.ToUpper(op)+" "+imapKind(err), err)
		return err
	}
	w.rec.ok(op, time.Since(t0))
	return nil
}

// messages is the INBOX size as the client knows it (EXISTS/EXPUNGE).
func (w *imapWorker) messages() uint32 {
	if mb := w.c.Mailbox(); mb != nil {
		return mb.NumMessages
	}
	return 0
}

func (w *imapWorker) do(op string) error {
	c := w.c
	n := w.messages()
	if n == 0 && (op == OpFetchHeaders || op == OpFetchBody || op == OpStore) {
		op = OpAppend // nothing to read yet
	}
	switch op {
	case OpSelect:
		return w.timed(op, func() error { _, err := c.Select("INBOX", nil).Wait(); return err })
	case OpFetchHeaders:
		var set imap.SeqSet
		set.AddRange(max(1, n-19), n)
		return w.timed(op, func() error {
			_, err := c.Fetch(set, &imap.FetchOptions{Envelope: true, Flags: true, UID: true, RFC822Size: true}).Collect()
			return err
		})
	case OpFetchBody:
		set := imap.SeqSetNum(1 + uint32(w.rng.IntN(int(n))))
		return w.timed(op, func() error {
			_, err := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			return err
		})
	case OpStore:
		set := imap.SeqSetNum(1 + uint32(w.rng.IntN(int(n))))
		flags := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}
		if w.rng.IntN(2) == 0 {
			flags.Op = imap.StoreFlagsDel
		}
		return w.timed(op, func() error { _, err := c.Store(set, flags, nil).Collect(); return err })
	case OpSearchUnseen:
		return w.timed(op, func() error {
			_, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
			return err
		})
	case OpSearchText:
		word := searchWords[w.rng.IntN(len(searchWords))]
		crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: word}}}
		if w.rng.IntN(2) == 0 {
			crit = &imap.SearchCriteria{Body: []string{words[w.rng.IntN(len(words))]}}
		}
		return w.timed(op, func() error { _, err := c.UIDSearch(crit, nil).Wait(); return err })
	case OpAppend:
		msg := message(w.rng, w.cred.Address, w.cred.Address, 2<<10)
		return w.timed(OpAppend, func() error {
			d, err := appendMsg(c, msg)
			if err == nil && d != nil && d.UID != 0 {
				w.appended = append(w.appended, d.UID)
			}
			return err
		})
	case OpExpunge:
		return w.expunge()
	case OpIdle:
		return w.idle()
	}
	return w.timed(OpNoop, func() error { return c.Noop().Wait() })
}

// expunge deletes the messages this client appended, so the mailboxes stay
// about the same size however long the run. Without APPENDUID (no UIDPLUS)
// there is nothing known to delete and it is a NOOP.
func (w *imapWorker) expunge() error {
	if len(w.appended) == 0 {
		return w.timed(OpNoop, func() error { return w.c.Noop().Wait() })
	}
	uids := imap.UIDSetNum(w.appended...)
	err := w.timed(OpStore, func() error {
		_, err := w.c.Store(uids, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Collect()
		return err
	})
	if err != nil {
		return err
	}
	w.appended = nil
	return w.timed(OpExpunge, func() error { _, err := w.c.Expunge().Collect(); return err })
}

func (w *imapWorker) idle() error {
	t0 := time.Now()
	ic, err := w.c.Idle()
	if err != nil {
		w.rec.fail(OpIdle, "IDLE "+imapKind(err), err)
		return err
	}
	enter := time.Since(t0)
	time.Sleep(w.opts.IdleFor)
	t1 := time.Now()
	if err := ic.Close(); err != nil {
		w.rec.fail(OpIdle, "IDLE "+imapKind(err), err)
		return err
	}
	if err := ic.Wait(); err != nil {
		w.rec.fail(OpIdle, "IDLE "+imapKind(err), err)
		return err
	}
	w.rec.ok(OpIdle, enter+time.Since(t1))
	return nil
}

func (w *imapWorker) logout() {
	if w.c != nil {
		w.c.Logout().Wait()
		w.c.Close()
	}
}

// imapKind names an error for the error table: NO, BAD or conn.
func imapKind(err error) string {
	var e *imap.Error
	if errors.As(err, &e) {
		return string(e.Type)
	}
	return "conn"
}
