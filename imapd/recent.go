package imapd

import (
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
)

// \Recent (RFC 3501 §2.3.2) for IMAP4rev1 sessions: a message is recent in
// the one session that first sees it read-write. The mailbox's view keeps
// the lowest UID nobody has claimed (firstRecent, persisted in the store)
// and the read-write session that claims new arrivals (recentOwner).
// EXAMINE shows what is recent without claiming it. IMAP4rev2 sessions
// never see \Recent.

const flagRecent imap.Flag = `\Recent`

// recentSet is the UIDs recent in one session: every UID from lo up to,
// not including, hi. A session's claims always have that form: SELECT
// claims every UID from the mailbox's firstRecent on, and later arrivals
// go, in UID order, to the one owner until another session selects (then
// this set grows no more; a new SELECT starts it again). UIDs in the
// range that no longer exist are no messages: reportRecent counts only
// the view's. So a session that selects 100,000 new messages keeps two
// numbers, not a list, and a poll counts them without a walk.
type recentSet struct {
	mu       sync.Mutex
	lo, hi   uint32
	reported int // count last sent as "* n RECENT"
}

// add extends the set by uids (ascending, none below the set's end).
func (r *recentSet) add(uids ...uint32) {
	if len(uids) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lo == r.hi {
		r.lo = uids[0]
	}
	r.hi = uids[len(uids)-1] + 1
}

func (r *recentSet) has(uid uint32) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return uid >= r.lo && uid < r.hi
}

func (r *recentSet) reset() {
	r.mu.Lock()
	r.lo, r.hi, r.reported = 0, 0, 0
	r.mu.Unlock()
}

// claimRecent starts the session's recent set on SELECT/EXAMINE from the
// view's UIDs (under view.mu) and returns how many are recent and, for a
// read-write session, the new firstRecent to persist (0: nothing claimed).
func (s *session) claimRecent(b *mailboxView, uids []uint32, readOnly bool) (n int, persist uint32) {
	i, _ := slices.BinarySearch(uids, b.firstRecent)
	s.recent.add(uids[i:]...)
	s.recent.mu.Lock()
	s.recent.reported = len(uids) - i
	s.recent.mu.Unlock()
	if readOnly {
		return len(uids) - i, 0
	}
	b.recentOwner = s
	if n := len(uids); n > 0 && uids[n-1] >= b.firstRecent {
		b.firstRecent = uids[n-1] + 1
		persist = b.firstRecent
	}
	return len(uids) - i, persist
}

// giveUpRecent ends the session's ownership of new arrivals (UNSELECT)
// and returns the firstRecent to persist (0: none).
func (s *session) giveUpRecent(b *mailboxView) uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.recentOwner != s {
		return 0
	}
	b.recentOwner = nil
	return b.firstRecent
}

// noteArrivals hands new UIDs to the view's owner (under view.mu).
func (b *mailboxView) noteArrivals(uids []uint32) {
	if b.recentOwner == nil {
		return
	}
	var mine []uint32
	for _, u := range uids {
		if u >= b.firstRecent {
			mine = append(mine, u)
			b.firstRecent = u + 1
		}
	}
	b.recentOwner.recent.add(mine...)
}

// rev1 reports whether the session still speaks IMAP4rev1 (\Recent exists).
func (s *session) rev1() bool { return !s.conn.EnabledCaps().Has(imap.CapIMAP4rev2) }

func (s *session) isRecent(uid uint32) bool { return s.rev1() && s.recent.has(uid) }

// withRecent adds \Recent to a message's flags where it is recent here.
func (s *session) withRecent(flags []imap.Flag, uid uint32) []imap.Flag {
	if s.isRecent(uid) {
		// flags may be shared with other sessions: never append in place
		out := make([]imap.Flag, len(flags), len(flags)+1)
		copy(out, flags)
		return append(out, flagRecent)
	}
	return flags
}

// reportRecent sends "* n RECENT" when the number of recent messages still
// in the mailbox changed since it was last sent.
func (s *session) reportRecent(write func(uint32) error) error {
	if s.view == nil || !s.rev1() {
		return nil
	}
	s.view.mu.Lock()
	s.recent.mu.Lock()
	// Only messages the client was told about count: an arrival applied
	// to the view after this poll's EXISTS waits for the next one (else
	// RECENT exceeds EXISTS, which imaptest's checkpoints catch).
	// The view's messages in the set are one run of sequence numbers,
	// i+1..j. The ones the client has not been told about are the
	// arrivals since its last EXISTS, the highest numbers: the run ends
	// below them.
	i, _ := slices.BinarySearch(s.view.uids, s.recent.lo)
	j, _ := slices.BinarySearch(s.view.uids, s.recent.hi)
	for j > i && s.tracker.EncodeSeqNum(uint32(j)) == 0 {
		j--
	}
	n := j - i
	changed := n != s.recent.reported
	s.recent.reported = n
	s.recent.mu.Unlock()
	s.view.mu.Unlock()
	if !changed {
		return nil
	}
	return write(uint32(n))
}

func isRecentFlag(f imap.Flag) bool { return strings.EqualFold(string(f), string(flagRecent)) }

// firstRecent is the open view's firstRecent, if the mailbox is open.
func (r *registry) firstRecent(id uint64) (uint32, bool) {
	r.mu.Lock()
	b := r.boxes[id]
	r.mu.Unlock()
	if b == nil {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.loadErr != nil {
		return 0, false
	}
	return b.firstRecent, true
}
