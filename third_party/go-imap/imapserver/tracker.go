package imapserver

import (
	"fmt"
	"sync"

	"github.com/emersion/go-imap/v2"
)

// MailboxTracker tracks the state of a mailbox.
//
// A mailbox can have multiple sessions listening for updates. Each session has
// its own view of the mailbox, because IMAP clients asynchronously receive
// mailbox updates.
type MailboxTracker struct {
	mutex       sync.Mutex
	numMessages uint32
	sessions    map[*SessionTracker]struct{}
}

// NewMailboxTracker creates a new mailbox tracker.
func NewMailboxTracker(numMessages uint32) *MailboxTracker {
	return &MailboxTracker{
		numMessages: numMessages,
		sessions:    make(map[*SessionTracker]struct{}),
	}
}

// NewSession creates a new session tracker for the mailbox.
//
// The caller must call SessionTracker.Close once they are done with the
// session.
func (t *MailboxTracker) NewSession() *SessionTracker {
	st := &SessionTracker{mailbox: t}
	t.mutex.Lock()
	t.sessions[st] = struct{}{}
	t.mutex.Unlock()
	return st
}

func (t *MailboxTracker) queueUpdate(update *trackerUpdate, source *SessionTracker) {
	t.mutex.Lock()
	defer t.mutex.Unlock()

	if update.expunge != 0 && update.expunge > t.numMessages {
		panic(fmt.Errorf("imapserver: expunge sequence number (%v) out of range (%v messages in mailbox)", update.expunge, t.numMessages))
	}
	if update.numMessages != 0 && update.numMessages < t.numMessages {
		panic(fmt.Errorf("imapserver: cannot decrease mailbox number of messages from %v to %v", t.numMessages, update.numMessages))
	}

	for st := range t.sessions {
		if source != nil && st == source {
			continue
		}
		st.queueUpdate(update)
	}

	switch {
	case update.expunge != 0:
		t.numMessages--
	case update.numMessages != 0:
		t.numMessages = update.numMessages
	}
}

// QueueExpunge queues a new EXPUNGE update.
func (t *MailboxTracker) QueueExpunge(seqNum uint32) {
	if seqNum == 0 {
		panic("imapserver: invalid expunge message sequence number")
	}
	t.queueUpdate(&trackerUpdate{expunge: seqNum}, nil)
}

// QueueExpungeUID is QueueExpunge with the expunged message's UID and the
// mailbox's mod-sequence of the expunge: a session that enabled QRESYNC is
// told with VANISHED instead of EXPUNGE (RFC 7162 section 3.2.10), and
// while the update waits behind a FETCH, STORE or SEARCH (which may not
// send expunges) a CONDSTORE client is sent a HIGHESTMODSEQ below it
// (section 3.2), so it never takes a later MODSEQ as its point of resync.
func (t *MailboxTracker) QueueExpungeUID(seqNum uint32, uid imap.UID, modSeq uint64) {
	if seqNum == 0 || uid == 0 {
		panic("imapserver: invalid expunge message sequence number or UID")
	}
	t.queueUpdate(&trackerUpdate{expunge: seqNum, expungeUID: uid, expungeModSeq: modSeq}, nil)
}

// QueueNumMessages queues a new EXISTS update.
func (t *MailboxTracker) QueueNumMessages(n uint32) {
	// TODO: merge consecutive NumMessages updates
	t.queueUpdate(&trackerUpdate{numMessages: n}, nil)
}

// QueueMailboxFlags queues a new FLAGS update.
func (t *MailboxTracker) QueueMailboxFlags(flags []imap.Flag) {
	if flags == nil {
		flags = []imap.Flag{}
	}
	t.queueUpdate(&trackerUpdate{mailboxFlags: flags}, nil)
}

// QueueMessageFlags queues a new FETCH FLAGS update.
//
// If source is not nil, the update won't be dispatched to it.
func (t *MailboxTracker) QueueMessageFlags(seqNum uint32, uid imap.UID, flags []imap.Flag, source *SessionTracker) {
	t.QueueMessageFlagsModSeq(seqNum, uid, flags, 0, source)
}

// QueueMessageFlagsModSeq is QueueMessageFlags with the message's new
// mod-sequence, written as MODSEQ to sessions that enabled CONDSTORE (RFC
// 7162 section 3.1.4.1).
func (t *MailboxTracker) QueueMessageFlagsModSeq(seqNum uint32, uid imap.UID, flags []imap.Flag, modSeq uint64, source *SessionTracker) {
	t.queueUpdate(&trackerUpdate{fetch: &trackerUpdateFetch{
		seqNum: seqNum,
		uid:    uid,
		flags:  flags,
		modSeq: modSeq,
	}}, source)
}

type trackerUpdate struct {
	expunge    uint32
	expungeUID imap.UID // 0 if the UID is unknown
	// expungeModSeq is the expunge's mod-sequence, 0 if unknown
	expungeModSeq uint64
	numMessages   uint32
	mailboxFlags  []imap.Flag
	fetch         *trackerUpdateFetch
}

type trackerUpdateFetch struct {
	seqNum uint32
	uid    imap.UID
	flags  []imap.Flag
	modSeq uint64
}

// SessionTracker tracks the state of a mailbox for an IMAP client.
type SessionTracker struct {
	mailbox *MailboxTracker

	mutex   sync.Mutex
	queue   []trackerUpdate
	updates chan<- struct{}

	sessionFlags func(uid imap.UID, flags []imap.Flag) []imap.Flag
	current      CurrentState
}

// MessageState is a message's flags and mod-sequence as they are now.
type MessageState struct {
	Flags  []imap.Flag
	ModSeq uint64
}

// CurrentState is what a session can tell its tracker about the mailbox
// as it is now (see SessionTracker.SetCurrentState).
type CurrentState interface {
	// Messages returns the current state of messages; expunged ones are
	// missing.
	Messages(uids []imap.UID) map[imap.UID]MessageState
	// MailboxFlags returns the mailbox's FLAGS now.
	MailboxFlags() []imap.Flag
}

// SetCurrentState makes queued updates show the mailbox as it is when they
// are written rather than when they were queued. Updates queue up until
// the next poll, while the session answers its client's own commands from
// the current state: a FETCH update written as queued could take the
// message's MODSEQ backwards, which a CONDSTORE client must never see (RFC
// 7162 section 3.1.4.1), and its flags back to an older state; a FLAGS
// update could drop a keyword the session already announced. A FETCH
// update for a message gone is left out (its EXPUNGE follows), one whose
// state now holds a keyword not yet sent in FLAGS is written as queued.
func (t *SessionTracker) SetCurrentState(s CurrentState) {
	t.mutex.Lock()
	t.current = s
	t.mutex.Unlock()
}

// SetSessionFlags installs a function that adds the session's own flags
// (\Recent, RFC 3501 section 2.3.2) to the flags of a queued FETCH FLAGS
// update before it is written: the update is shared by every session of
// the mailbox, but a FETCH FLAGS response replaces the client's whole
// flag list, so a flag only this session has must not be missing from it.
func (t *SessionTracker) SetSessionFlags(f func(uid imap.UID, flags []imap.Flag) []imap.Flag) {
	t.mutex.Lock()
	t.sessionFlags = f
	t.mutex.Unlock()
}

// Close unregisters the session.
func (t *SessionTracker) Close() {
	t.mailbox.mutex.Lock()
	delete(t.mailbox.sessions, t)
	t.mailbox.mutex.Unlock()
	t.mailbox = nil
}

func (t *SessionTracker) queueUpdate(update *trackerUpdate) {
	var updates chan<- struct{}
	t.mutex.Lock()
	t.queue = append(t.queue, *update)
	updates = t.updates
	t.mutex.Unlock()

	if updates != nil {
		select {
		case updates <- struct{}{}:
			// we notified SessionTracker.Idle about the update
		default:
			// skip the update
		}
	}
}

// Poll dequeues pending mailbox updates for this session.
func (t *SessionTracker) Poll(w *UpdateWriter, allowExpunge bool) error {
	var updates []trackerUpdate
	t.mutex.Lock()
	if allowExpunge {
		updates = t.queue
		t.queue = nil
	} else {
		stopIndex := -1
		for i, update := range t.queue {
			if update.expunge != 0 {
				stopIndex = i
				break
			}
			updates = append(updates, update)
		}
		if stopIndex >= 0 {
			t.queue = t.queue[stopIndex:]
		} else {
			t.queue = nil
		}
	}
	sessionFlags, current := t.sessionFlags, t.current
	t.mutex.Unlock()

	var now map[imap.UID]MessageState
	if current != nil {
		var uids []imap.UID
		for _, update := range updates {
			if update.fetch != nil && update.fetch.uid != 0 {
				uids = append(uids, update.fetch.uid)
			}
		}
		if len(uids) > 0 {
			now = current.Messages(uids)
		}
	}

	// With QRESYNC, consecutive expunges become one VANISHED response.
	qresync := w.conn != nil && w.conn.isEnabled(imap.CapQResync)
	var vanished imap.UIDSet
	flush := func() error {
		if len(vanished) == 0 {
			return nil
		}
		err := w.conn.writeVanished(vanished, false)
		vanished = nil
		return err
	}
	for _, update := range updates {
		if qresync && update.expungeUID != 0 {
			vanished.AddNum(update.expungeUID)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		var err error
		switch {
		case update.expunge != 0:
			err = w.WriteExpunge(update.expunge)
		case update.numMessages != 0:
			err = w.WriteNumMessages(update.numMessages)
		case update.mailboxFlags != nil:
			flags := update.mailboxFlags
			if current != nil {
				flags = current.MailboxFlags()
			}
			err = w.WriteMailboxFlags(flags)
		case update.fetch != nil:
			flags, modSeq := update.fetch.flags, update.fetch.modSeq
			if now != nil && update.fetch.uid != 0 {
				state, ok := now[update.fetch.uid]
				if !ok {
					continue // expunged meanwhile: its EXPUNGE follows
				}
				if w.conn.knowsFlags(state.Flags) {
					flags, modSeq = state.Flags, state.ModSeq
				}
			}
			if sessionFlags != nil {
				flags = sessionFlags(update.fetch.uid, flags)
			}
			err = w.writeMessageFlags(update.fetch.seqNum, update.fetch.uid, flags, modSeq)
		default:
			panic(fmt.Errorf("imapserver: unknown tracker update %#v", update))
		}
		if err != nil {
			return err
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if allowExpunge || w.conn == nil || !w.conn.isEnabled(imap.CapCondStore) {
		return nil
	}
	// Expunges held back: the client may have seen higher MODSEQs in this
	// command's answers; its point of resync must stay below them.
	var held uint64
	t.mutex.Lock()
	for _, update := range t.queue {
		if m := update.expungeModSeq; m != 0 && (held == 0 || m < held) {
			held = m
		}
	}
	t.mutex.Unlock()
	if held > 1 {
		return w.conn.writeHighestModSeq(held - 1)
	}
	return nil
}

// Idle continuously writes mailbox updates.
//
// When the stop channel is closed, it returns.
//
// Idle cannot be invoked concurrently from two separate goroutines.
func (t *SessionTracker) Idle(w *UpdateWriter, stop <-chan struct{}) error {
	updates := make(chan struct{}, 64)
	t.mutex.Lock()
	ok := t.updates == nil
	if ok {
		t.updates = updates
	}
	t.mutex.Unlock()
	if !ok {
		return fmt.Errorf("imapserver: only a single SessionTracker.Idle call is allowed at a time")
	}

	defer func() {
		t.mutex.Lock()
		t.updates = nil
		t.mutex.Unlock()
	}()

	// Poll before each wait: updates queued before IDLE began (another
	// session's change since this one's last command) signalled nobody.
	for {
		if err := t.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-updates:
		case <-stop:
			return nil
		}
	}
}

// DecodeSeqNum converts a message sequence number from the client view to the
// server view.
//
// Zero is returned if the message doesn't exist from the server point-of-view.
func (t *SessionTracker) DecodeSeqNum(seqNum uint32) uint32 {
	if seqNum == 0 {
		return 0
	}

	t.mutex.Lock()
	defer t.mutex.Unlock()

	for _, update := range t.queue {
		if update.expunge == 0 {
			continue
		}
		if seqNum == update.expunge {
			return 0
		} else if seqNum > update.expunge {
			seqNum--
		}
	}

	if seqNum > t.mailbox.numMessages {
		return 0
	}

	return seqNum
}

// EncodeSeqNum converts a message sequence number from the server view to the
// client view.
//
// Zero is returned if the message doesn't exist from the client point-of-view.
func (t *SessionTracker) EncodeSeqNum(seqNum uint32) uint32 {
	if seqNum == 0 {
		return 0
	}

	t.mutex.Lock()
	defer t.mutex.Unlock()

	if seqNum > t.mailbox.numMessages {
		return 0
	}

	for i := len(t.queue) - 1; i >= 0; i-- {
		update := t.queue[i]
		// TODO: this doesn't handle increments > 1
		if update.numMessages != 0 && seqNum == update.numMessages {
			return 0
		}
		if update.expunge != 0 && seqNum >= update.expunge {
			seqNum++
		}
	}
	return seqNum
}
