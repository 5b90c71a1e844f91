package imapd

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/store"
)

// registry holds one mailboxView per mailbox that at least one session
// has selected, keyed by mailbox ID (so it survives RENAME), and feeds
// them from the store's change feed in commit order.
type registry struct {
	st      *store.Store
	log     *slog.Logger
	account func(store.Event)
	recheck func()

	mu    sync.Mutex
	boxes map[uint64]*mailboxView
	sub   *store.Subscription
	done  chan struct{}
	// resyncs counts overflows (tests, logs).
	resyncs atomic.Int64
}

// feedBuffer is how many events the dispatcher may lag behind before it
// has to resynchronise from the store.
var feedBuffer = 1 << 16 // a variable for the overflow test

func feedFilter(e store.Event) bool {
	switch e.Kind {
	case store.MailChanged, store.AccountChanged, store.AccountDeleted:
		return true
	}
	return false
}

func newRegistry(st *store.Store, log *slog.Logger, account func(store.Event), recheck func()) *registry {
	r := &registry{st: st, log: log, account: account, recheck: recheck, boxes: map[uint64]*mailboxView{}, done: make(chan struct{})}
	r.sub = st.Feed().Subscribe(feedBuffer, feedFilter)
	go r.run()
	return r
}

func (r *registry) close() {
	r.mu.Lock()
	sub := r.sub
	r.sub = nil
	r.mu.Unlock()
	if sub != nil {
		sub.Close()
	}
	<-r.done
}

func (r *registry) run() {
	defer close(r.done)
	for {
		r.mu.Lock()
		sub := r.sub
		r.mu.Unlock()
		if sub == nil {
			return
		}
		for e := range sub.C {
			if e.Kind == store.MailChanged {
				ch := e.Data.(store.MailChange)
				r.mu.Lock()
				b := r.boxes[ch.Mailbox]
				r.mu.Unlock()
				if b != nil {
					b.apply(&ch)
				}
			} else {
				r.account(e)
			}
		}
		if !sub.Overflowed() {
			return // closed by close()
		}
		// We lagged too far: subscribe again, then bring every open view
		// up to date from a fresh snapshot.
		r.log.Warn("imap: change feed overflowed; resynchronising open mailboxes")
		r.resyncs.Add(1)
		r.mu.Lock()
		if r.sub == nil {
			r.mu.Unlock()
			return
		}
		r.sub = r.st.Feed().Subscribe(feedBuffer, feedFilter)
		boxes := make([]*mailboxView, 0, len(r.boxes))
		for _, b := range r.boxes {
			boxes = append(boxes, b)
		}
		r.mu.Unlock()
		for _, b := range boxes {
			b.resync(r.st)
		}
		r.recheck() // a lock among the lost events must still end sessions
	}
}

// acquire returns the view of a mailbox, loading it on first use. Call
// release when done.
func (r *registry) acquire(id uint64) (*mailboxView, error) {
	r.mu.Lock()
	if b := r.boxes[id]; b != nil {
		b.refs++
		r.mu.Unlock()
		b.mu.Lock() // wait for a concurrent load
		err := b.loadErr
		b.mu.Unlock()
		if err != nil {
			r.release(b)
			return nil, err
		}
		return b, nil
	}
	// Registered before the snapshot is taken: every change committed
	// after the snapshot reaches the view; older ones are skipped by
	// MODSEQ.
	b := &mailboxView{id: id, refs: 1, changed: make(chan struct{})}
	b.mu.Lock()
	r.boxes[id] = b
	r.mu.Unlock()
	var uids []uint32
	var modseq uint64
	var firstRecent uint32
	var keywords map[string]string
	err := r.st.View(func(t *store.Tx) error {
		m, err := t.Mailbox(id)
		if err != nil {
			return err
		}
		firstRecent = m.RecentFrom()
		if keywords, err = loadKeywords(t, id); err != nil {
			return err
		}
		uids, modseq, err = t.UIDs(id)
		return err
	})
	b.uids, b.modseq, b.loadErr, b.firstRecent, b.keywords = uids, modseq, err, firstRecent, keywords
	b.tracker = imapserver.NewMailboxTracker(uint32(len(uids)))
	b.mu.Unlock()
	if err != nil {
		r.release(b)
		return nil, err
	}
	return b, nil
}

func (r *registry) release(b *mailboxView) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b.refs--
	if b.refs == 0 && r.boxes[b.id] == b {
		delete(r.boxes, b.id)
	}
}

// mailboxView is the server's view of one mailbox: its UIDs in order
// (sequence number = index + 1) and the library's tracker, changed
// together under mu in commit order.
type mailboxView struct {
	id      uint64
	refs    int // under registry.mu
	mu      sync.Mutex
	tracker *imapserver.MailboxTracker
	uids    []uint32
	modseq  uint64
	deleted bool
	loadErr error
	// firstRecent and recentOwner: see recent.go.
	firstRecent uint32
	recentOwner *session
	// keywords: see keywords.go.
	keywords map[string]string
	kwGen    uint64        // counts keywords added since the view was loaded
	changed  chan struct{} // closed and replaced on every applied change
}

func (b *mailboxView) seqOf(uid uint32) (uint32, bool) {
	i, ok := slices.BinarySearch(b.uids, uid)
	return uint32(i + 1), ok
}

func (b *mailboxView) apply(ch *store.MailChange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ch.ModSeq <= b.modseq && !ch.Deleted {
		return // already in the snapshot this view started from
	}
	// Expunges from the highest sequence number down keep the lower ones
	// valid while they are queued.
	for i := len(ch.Expunged) - 1; i >= 0; i-- {
		if seq, ok := b.seqOf(ch.Expunged[i]); ok {
			b.uids = slices.Delete(b.uids, int(seq-1), int(seq))
			b.tracker.QueueExpungeUID(seq, imap.UID(ch.Expunged[i]), ch.ModSeq)
		}
	}
	fresh := false
	for _, m := range ch.Appended {
		fresh = addKeywords(b.keywords, m.Flags) || fresh
	}
	for _, m := range ch.Flags {
		fresh = addKeywords(b.keywords, m.Flags) || fresh
	}
	if fresh {
		b.kwGen++
		b.tracker.QueueMailboxFlags(b.flagsLocked())
	}
	if len(ch.Appended) > 0 {
		var added []uint32
		for _, m := range ch.Appended {
			if n := len(b.uids); n == 0 || b.uids[n-1] < m.UID {
				b.uids = append(b.uids, m.UID)
				added = append(added, m.UID)
			}
		}
		b.noteArrivals(added)
		b.tracker.QueueNumMessages(uint32(len(b.uids)))
	}
	src, _ := ch.Origin.(*imapserver.SessionTracker)
	for _, m := range ch.Flags {
		if seq, ok := b.seqOf(m.UID); ok {
			b.tracker.QueueMessageFlagsModSeq(seq, imap.UID(m.UID), imapFlags(m.Flags), m.ModSeq, src)
		}
	}
	if ch.ModSeq > b.modseq {
		b.modseq = ch.ModSeq
	}
	if ch.Deleted {
		b.deleted = true
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// resync brings the view up to date after the feed overflowed: vanished
// UIDs are expunged, new ones announced. Flag changes in between are seen
// on the next FETCH.
func (b *mailboxView) resync(st *store.Store) {
	var uids []uint32
	var modseq uint64
	err := st.View(func(t *store.Tx) error {
		var err error
		uids, modseq, err = t.UIDs(b.id)
		return err
	})
	ch := &store.MailChange{Mailbox: b.id, ModSeq: modseq}
	if err != nil {
		ch.Deleted = true
	}
	b.mu.Lock()
	for _, u := range b.uids {
		if _, ok := slices.BinarySearch(uids, u); !ok {
			ch.Expunged = append(ch.Expunged, u)
		}
	}
	last := uint32(0)
	if n := len(b.uids); n > 0 {
		last = b.uids[n-1]
	}
	for _, u := range uids {
		if u > last {
			ch.Appended = append(ch.Appended, store.Message{UID: u})
		}
	}
	b.modseq = 0 // accept this change whatever its MODSEQ
	b.mu.Unlock()
	b.apply(ch)
}

// waitFor blocks until the view has applied every change up to modseq
// (the session's own commit), or a short timeout passes.
func (b *mailboxView) waitFor(modseq uint64) {
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		if b.modseq >= modseq || b.deleted {
			b.mu.Unlock()
			return
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return
		}
	}
}
