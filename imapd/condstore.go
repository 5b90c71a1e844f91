package imapd

import (
	"math"
	"slices"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/store"
)

// CONDSTORE and QRESYNC (RFC 7162). Every message carries the MODSEQ of
// its last change and every mailbox its HighestModSeq (store/mail.go);
// expunges leave a tombstone (UID → MODSEQ of the expunge) that is kept
// as long as the mailbox exists, so VANISHED (EARLIER) is always exact
// and the seq-match data of QRESYNC is never needed (section 3.2.5.2
// lets a server that kept every expunge ignore it).

var _ imapserver.SessionCondStore = (*session)(nil)

// HighestModSeq is asked for by the library when a command other than
// SELECT enables CONDSTORE while a mailbox is selected.
func (s *session) HighestModSeq() (uint64, error) {
	var modseq uint64
	err := s.st().View(func(t *store.Tx) error {
		m, err := t.Mailbox(s.view.id)
		if err != nil {
			return err
		}
		modseq = m.HighestModSeq
		return nil
	})
	return modseq, storeErr(err)
}

// condStore tells whether the client enabled CONDSTORE (or QRESYNC): then
// every FETCH response that shows flags also shows MODSEQ.
func (s *session) condStore() bool {
	return s.conn.EnabledCaps().Has(imap.CapCondStore)
}

// changedSince keeps the messages changed after modseq (FETCH
// CHANGEDSINCE, RFC 7162 section 3.1.4.2).
func changedSince(msgs []loaded, modseq uint64) []loaded {
	if modseq == 0 {
		return msgs
	}
	return slices.DeleteFunc(msgs, func(l loaded) bool { return l.msg.ModSeq <= modseq })
}

// writeVanished answers the VANISHED modifier of UID FETCH and the
// QRESYNC parameter of SELECT: the UIDs of set expunged after modseq, as
// one VANISHED (EARLIER) before the FETCH responses (section 3.2.6).
// Messages appended after modseq and expunged since are left out: a
// client in sync at modseq never knew them (and one that saw them in
// this session was told with VANISHED then).
func (s *session) writeVanished(w *imapserver.FetchWriter, numSet imap.NumSet, modseq uint64) error {
	set, ok := numSet.(imap.UIDSet)
	if !ok {
		return nil
	}
	// "*" means the highest UID there ever was, expunged ones included.
	set = slices.Clone(set)
	for i := range set {
		if set[i].Start == 0 {
			set[i].Start = math.MaxUint32
		}
		if set[i].Stop == 0 {
			set[i].Stop = math.MaxUint32
		}
	}
	var gone []uint32
	err := s.st().View(func(t *store.Tx) error {
		var err error
		gone, err = t.ExpungedKnownAt(s.view.id, modseq)
		return err
	})
	if err != nil {
		return storeErr(err)
	}
	var out imap.UIDSet
	for _, uid := range gone {
		if set.Contains(imap.UID(uid)) {
			out.AddNum(imap.UID(uid))
		}
	}
	return w.WriteVanished(out)
}

// searchModSeq is the MODSEQ of a SEARCH answer when the criteria used
// MODSEQ (section 3.1.5): the highest MODSEQ of the messages returned, of
// the one returned when only MIN or only MAX was asked (RFC 4731 section
// 3.2 via RFC 7162 section 3.1.10).
func searchModSeq(opts *imap.SearchOptions, minMod, maxMod, highest uint64) uint64 {
	if opts == nil || opts.ReturnAll || opts.ReturnCount || opts.ReturnSave {
		return highest
	}
	switch {
	case opts.ReturnMin && opts.ReturnMax:
		return max(minMod, maxMod)
	case opts.ReturnMin:
		return minMod
	case opts.ReturnMax:
		return maxMod
	}
	return highest
}

// usesModSeq reports whether SEARCH criteria hold MODSEQ, anywhere.
func usesModSeq(c *imap.SearchCriteria) bool {
	if c.ModSeq != nil {
		return true
	}
	for i := range c.Not {
		if usesModSeq(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if usesModSeq(&c.Or[i][0]) || usesModSeq(&c.Or[i][1]) {
			return true
		}
	}
	return false
}

// reportModified names the messages a STORE (UNCHANGEDSINCE) left alone
// in its OK [MODIFIED] (UIDs for UID STORE, sequence numbers otherwise)
// and returns the other items, the ones the STORE answers for.
func (s *session) reportModified(w *imapserver.FetchWriter, numSet imap.NumSet, items []item, modified []uint32) []item {
	if len(modified) == 0 {
		return items
	}
	_, byUID := numSet.(imap.UIDSet)
	var uids imap.UIDSet
	var seqs imap.SeqSet
	rest := items[:0:0]
	for _, it := range items {
		if !slices.Contains(modified, it.uid) {
			rest = append(rest, it)
			continue
		}
		if byUID {
			uids.AddNum(imap.UID(it.uid))
		} else if it.seq != 0 {
			seqs.AddNum(it.seq)
		}
	}
	if byUID {
		w.WriteModified(uids)
	} else {
		w.WriteModified(seqs)
	}
	return rest
}

// writeModSeqs answers STORE .SILENT once CONDSTORE is enabled: FETCH
// (UID MODSEQ) for every message whose flags changed.
func (s *session) writeModSeqs(w *imapserver.FetchWriter, items []item, changed []store.Message) error {
	seqs := make(map[uint32]uint32, len(items))
	for _, it := range items {
		seqs[it.uid] = it.seq
	}
	for _, m := range changed {
		seq := seqs[m.UID]
		if seq == 0 {
			continue
		}
		rw := w.CreateMessage(seq)
		rw.WriteUID(imap.UID(m.UID))
		rw.WriteModSeq(m.ModSeq)
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// currentState gives the library's tracker the mailbox as it is when
// queued updates are written: the client may have been shown a newer
// state meanwhile (its own FETCH, or FLAGS announced by announceKeywords),
// and its view must never go back (MODSEQ: RFC 7162 section 3.1.4.1).
type currentState struct {
	s    *session
	view *mailboxView
}

func (c currentState) MailboxFlags() []imap.Flag {
	c.view.mu.Lock()
	defer c.view.mu.Unlock()
	return c.view.flagsLocked()
}

// Messages leaves out the messages gone.
func (c currentState) Messages(uids []imap.UID) map[imap.UID]imapserver.MessageState {
	out := make(map[imap.UID]imapserver.MessageState, len(uids))
	err := c.s.st().View(func(t *store.Tx) error {
		for _, uid := range uids {
			m, err := t.Message(c.view.id, uint32(uid))
			if err != nil {
				continue
			}
			out[uid] = imapserver.MessageState{Flags: imapFlags(m.Flags), ModSeq: m.ModSeq}
		}
		return nil
	})
	if err != nil {
		return nil // written as queued
	}
	return out
}
