package imapd

import (
	"github.com/emersion/go-imap/v2"
)

// item is one message as the client sees it: its sequence number in the
// client's view (0 if the client has not been told about it yet) and UID.
type item struct {
	seq uint32
	uid uint32
}

// resolve turns a sequence or UID set from the client into messages of
// the selected mailbox, in order. Sequence numbers are translated through
// the session tracker: the client may not have seen the latest EXPUNGEs
// and EXISTS yet.
func (s *session) resolve(numSet imap.NumSet) []item {
	if imap.IsSearchRes(numSet) { // "$": the saved SEARCH result
		numSet = s.savedSearch()
	}
	v := s.view
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []item
	switch set := numSet.(type) {
	case imap.SeqSet:
		// "*" is the highest sequence number the client knows.
		max := uint32(0)
		for i := len(v.uids); i > 0; i-- {
			if c := s.tracker.EncodeSeqNum(uint32(i)); c != 0 {
				max = c
				break
			}
		}
		set = staticSeqSet(set, max)
		for i, uid := range v.uids {
			c := s.tracker.EncodeSeqNum(uint32(i + 1))
			if c != 0 && set.Contains(c) {
				out = append(out, item{seq: c, uid: uid})
			}
		}
	case imap.UIDSet:
		max := uint32(0)
		if n := len(v.uids); n > 0 {
			max = v.uids[n-1]
		}
		set = staticUIDSet(set, max)
		for i, uid := range v.uids {
			if set.Contains(imap.UID(uid)) {
				out = append(out, item{seq: s.tracker.EncodeSeqNum(uint32(i + 1)), uid: uid})
			}
		}
	}
	return out
}

// savedSearch is the SEARCHRES result ("$"); empty when none was saved.
func (s *session) savedSearch() imap.UIDSet {
	if s.searchRes == nil {
		return imap.UIDSet{}
	}
	return s.searchRes
}

// seqOfUID is the client's sequence number of a UID (0 if unknown).
func (s *session) seqOfUID(uid uint32) uint32 {
	v := s.view
	v.mu.Lock()
	defer v.mu.Unlock()
	seq, ok := v.seqOf(uid)
	if !ok {
		return 0
	}
	return s.tracker.EncodeSeqNum(seq)
}

func uidsOf(items []item) []uint32 {
	out := make([]uint32, len(items))
	for i, it := range items {
		out[i] = it.uid
	}
	return out
}

func staticSeqSet(set imap.SeqSet, max uint32) imap.SeqSet {
	out := make(imap.SeqSet, len(set))
	copy(out, set)
	for i := range out {
		staticRange(&out[i].Start, &out[i].Stop, max)
	}
	return out
}

func staticUIDSet(set imap.UIDSet, max uint32) imap.UIDSet {
	out := make(imap.UIDSet, len(set))
	copy(out, set)
	for i := range out {
		a, b := uint32(out[i].Start), uint32(out[i].Stop)
		staticRange(&a, &b, max)
		out[i].Start, out[i].Stop = imap.UID(a), imap.UID(b)
	}
	return out
}

// staticRange replaces "*" (0) by max.
func staticRange(start, stop *uint32, max uint32) {
	dyn := false
	if *start == 0 {
		*start, dyn = max, true
	}
	if *stop == 0 {
		*stop, dyn = max, true
	}
	if dyn && *start > *stop {
		*start, *stop = *stop, *start
	}
}

func seqContains(set imap.SeqSet, n uint32) bool { return set.Contains(n) }
