package imapd

// SEARCH UNSEEN and SEEN, alone or with sequence and UID sets, in every
// form (SEARCH, UID SEARCH, ESEARCH's RETURN): the candidates come from
// the store's unseen index (store/mailunseen.go) instead of the flags of
// every message, so a large mailbox costs a walk over its unseen UIDs.

import (
	"reflect"
	"slices"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"

	"schulhof/store"
)

// noUnseenIndex makes every search scan (tests and benchmarks compare);
// seenIndexAnswers counts the searches the index answered.
var (
	noUnseenIndex    atomic.Bool
	seenIndexAnswers atomic.Int64
)

// seenQuery reports whether c asks for \Seen (seen) or for its absence,
// with nothing else but sequence and UID sets; NOT SEEN counts too (but
// not NOT (SEEN UID 1:9): its answer holds unseen messages).
func seenQuery(c *imap.SearchCriteria) (seen, ok bool) {
	if noUnseenIndex.Load() {
		return false, false
	}
	rest := *c
	rest.SeqNum, rest.UID, rest.Flag, rest.NotFlag, rest.Not = nil, nil, nil, nil, nil
	if !reflect.ValueOf(rest).IsZero() {
		return false, false
	}
	switch {
	case len(c.Flag) == 1 && len(c.NotFlag)+len(c.Not) == 0:
		return true, isSeenFlag(c.Flag[0])
	case len(c.NotFlag) == 1 && len(c.Flag)+len(c.Not) == 0:
		return false, isSeenFlag(c.NotFlag[0])
	case len(c.Not) == 1 && len(c.Flag)+len(c.NotFlag) == 0 && len(c.Not[0].SeqNum)+len(c.Not[0].UID) == 0:
		seen, ok := seenQuery(&c.Not[0])
		return !seen, ok
	}
	return false, false
}

func isSeenFlag(f imap.Flag) bool {
	fl, ok := storedFlag(f)
	return ok && fl == `\Seen`
}

// seenRows are the view's messages with (seen) or without \Seen, as the
// client numbers them, for Search's match; nothing else about them is
// read (the criteria look at nothing else).
type seenRows struct {
	items          []item
	seen           bool
	maxSeq, maxUID uint32 // what a scan of the same view finds
	scratch        loaded
}

var seenFlags = []string{`\Seen`}

func (r *seenRows) at(i int) *loaded {
	r.scratch = loaded{item: r.items[i]}
	r.scratch.msg.UID = r.items[i].uid
	if r.seen {
		r.scratch.msg.Flags = seenFlags
	}
	return &r.scratch
}

// seenRows reads the unseen index in a snapshot the view is in step with
// (its MODSEQ is the mailbox's: it holds exactly the snapshot's UIDs), so
// the answer is what a scan would give. A large mailbox older than the
// index gets it built here once. ok is false when the index cannot answer
// (a small mailbox has none; the view never in step in a few tries): the
// caller scans.
func (s *session) seenRows(seen bool) (r *seenRows, ok bool) {
	v := s.view
	built := false
	for range 4 {
		var u *store.Unseen
		err := s.st().View(func(t *store.Tx) error {
			var err error
			u, err = t.UnseenUIDs(v.id)
			return err
		})
		if err != nil {
			return nil, false
		}
		if !u.Indexed {
			if !u.Wanted || built { // small: the scan is as quick
				return nil, false
			}
			if err := s.st().IndexUnseen(v.id); err != nil {
				s.log.Warn("imap: building the unseen index", "mailbox", v.id, "err", err)
				return nil, false
			}
			built = true
			continue
		}
		v.mu.Lock()
		if v.modseq != u.ModSeq || v.deleted {
			behind := v.modseq < u.ModSeq && !v.deleted
			v.mu.Unlock()
			if behind {
				v.waitFor(u.ModSeq)
			}
			continue // a newer snapshot, or the view caught up
		}
		r = s.seenRowsLocked(u.UIDs, seen)
		v.mu.Unlock()
		seenIndexAnswers.Add(1)
		return r, true
	}
	return nil, false
}

// seenRowsLocked is seenRows under the view's lock.
func (s *session) seenRowsLocked(unseen []uint32, seen bool) *seenRows {
	v := s.view
	r := &seenRows{seen: seen}
	if n := len(v.uids); n > 0 {
		r.maxUID = v.uids[n-1]
	}
	for i := len(v.uids); i > 0; i-- {
		if c := s.tracker.EncodeSeqNum(uint32(i)); c != 0 {
			r.maxSeq = c
			break
		}
	}
	// Messages the client has not been told of yet (sequence number 0)
	// are left out, as the scan does.
	if !seen {
		r.items = make([]item, 0, len(unseen))
		j := 0
		for _, u := range unseen {
			// UIDs ascend by at least one: u lies within u-uids[j]
			// places of j (a dense index steps, a sparse one seeks).
			end := len(v.uids)
			if j < end && v.uids[j] <= u {
				end = min(end, j+int(u-v.uids[j])+1)
			}
			k, found := slices.BinarySearch(v.uids[j:end], u)
			j += k
			if !found {
				continue // not in a view in step; never
			}
			if seq := s.tracker.EncodeSeqNum(uint32(j + 1)); seq != 0 {
				r.items = append(r.items, item{seq: seq, uid: u})
			}
		}
		return r
	}
	r.items = make([]item, 0, max(0, len(v.uids)-len(unseen)))
	j := 0
	for i, u := range v.uids {
		for j < len(unseen) && unseen[j] < u {
			j++
		}
		if j < len(unseen) && unseen[j] == u {
			continue
		}
		if seq := s.tracker.EncodeSeqNum(uint32(i + 1)); seq != 0 {
			r.items = append(r.items, item{seq: seq, uid: u})
		}
	}
	return r
}
