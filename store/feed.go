package store

import "sync"

// EventKind names what changed.
type EventKind string

const (
	AccountChanged EventKind = "account.changed" // lock, unlock, password, role, fields
	AccountDeleted EventKind = "account.deleted"
	GroupChanged   EventKind = "group.changed"
)

// Event is one committed change. Account names the account it concerns
// (empty for school-wide changes); Data carries domain details.
type Event struct {
	Kind    EventKind
	Account string
	Group   string
	Data    any
}

// Feed delivers events to in-process subscribers in commit order.
//
// Writers reserve a ticket for their events while they hold bbolt's writer
// lock (so tickets are ordered as commits are), then commit or cancel it.
// Events are delivered from the head of the ticket queue only, so a slow
// commit never lets a later one overtake it.
type Feed struct {
	mu     sync.Mutex
	queue  []*ticket
	subs   map[*Subscription]struct{}
	closed bool
}

type ticketState int

const (
	ticketPending ticketState = iota
	ticketCommitted
	ticketCancelled
)

type ticket struct {
	events []Event
	state  ticketState
}

// Subscription receives events on C. If the subscriber falls more than its
// buffer behind, C is closed and Overflowed reports true: the subscriber
// must resynchronise from the store.
type Subscription struct {
	C        <-chan Event
	c        chan Event
	feed     *Feed
	overflow bool
	filter   func(Event) bool
}

func newFeed() *Feed { return &Feed{subs: map[*Subscription]struct{}{}} }

// Subscribe returns a subscription to events for which filter returns true
// (nil: all events). Buffer is the number of events it may lag behind.
func (f *Feed) Subscribe(buffer int, filter func(Event) bool) *Subscription {
	if buffer <= 0 {
		buffer = 256
	}
	c := make(chan Event, buffer)
	s := &Subscription{C: c, c: c, feed: f, filter: filter}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(c)
		return s
	}
	f.subs[s] = struct{}{}
	return s
}

// Close ends the subscription; C is closed.
func (s *Subscription) Close() {
	f := s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; ok {
		delete(f.subs, s)
		close(s.c)
	}
}

// Overflowed reports whether events were lost because the subscriber lagged.
func (s *Subscription) Overflowed() bool {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	return s.overflow
}

// reserve queues a pending ticket. Called with bbolt's writer lock held.
func (f *Feed) reserve(events []Event) *ticket {
	t := &ticket{events: events}
	if len(events) == 0 {
		t.state = ticketCancelled // nothing to order
		return t
	}
	f.mu.Lock()
	f.queue = append(f.queue, t)
	f.mu.Unlock()
	return t
}

func (f *Feed) commit(t *ticket) { f.settle(t, ticketCommitted) }

// cancel drops a ticket whose transaction did not commit; a no-op for a
// ticket already committed.
func (f *Feed) cancel(t *ticket) { f.settle(t, ticketCancelled) }

func (f *Feed) settle(t *ticket, st ticketState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.state != ticketPending {
		return
	}
	t.state = st
	for len(f.queue) > 0 && f.queue[0].state != ticketPending {
		head := f.queue[0]
		f.queue[0] = nil
		f.queue = f.queue[1:]
		if head.state == ticketCommitted {
			for _, e := range head.events {
				f.deliver(e)
			}
		}
	}
}

// deliver sends e to every subscriber without blocking. Called with f.mu.
func (f *Feed) deliver(e Event) {
	for s := range f.subs {
		if s.filter != nil && !s.filter(e) {
			continue
		}
		select {
		case s.c <- e:
		default:
			s.overflow = true
			delete(f.subs, s)
			close(s.c)
		}
	}
}

func (f *Feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for s := range f.subs {
		delete(f.subs, s)
		close(s.c)
	}
}
