package imapd

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/store"
)

// STORE and UID STORE.
func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, opts *imap.StoreOptions) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	items := s.resolve(numSet)
	op := map[imap.StoreFlagsOp]store.FlagOp{
		imap.StoreFlagsSet: store.FlagsSet, imap.StoreFlagsAdd: store.FlagsAdd, imap.StoreFlagsDel: store.FlagsRemove,
	}[flags.Op]
	// Origin = this session's tracker: other sessions get FETCH FLAGS from
	// the feed, this one answers below.
	stored, fresh := s.view.canonical(storeFlags(flags.Flags))
	var changed []store.Message
	var err error
	if opts != nil && opts.UnchangedSince != 0 {
		// STORE (UNCHANGEDSINCE n), RFC 7162 section 3.1.3: messages
		// changed after n are left alone and named in OK [MODIFIED].
		var modified []uint32
		changed, modified, err = s.st().StoreFlagsUnchangedSince(s.view.id, uidsOf(items), opts.UnchangedSince, op, stored, s.tracker)
		if err == nil {
			items = s.reportModified(w, numSet, items, modified)
		}
	} else {
		changed, err = s.st().StoreFlags(s.view.id, uidsOf(items), op, stored, s.tracker)
	}
	if err != nil {
		return s.storeErr(err)
	}
	if fresh {
		s.syncView() // the view learns the new keyword
	}
	if err := s.announceKeywords(w); err != nil {
		return err
	}
	condStore := s.condStore()
	if flags.Silent {
		if condStore {
			// Section 3.1.3: even .SILENT reports the new MODSEQs.
			return s.writeModSeqs(w, items, changed)
		}
		return nil
	}
	// The messages changed come back from the store; only the others
	// (their flags were already so) are read again.
	now := make(map[uint32][]string, len(items))
	modseqs := make(map[uint32]uint64, len(items))
	for _, m := range changed {
		now[m.UID], modseqs[m.UID] = m.Flags, m.ModSeq
	}
	var rest []item
	for _, it := range items {
		if _, ok := now[it.uid]; !ok {
			rest = append(rest, it)
		}
	}
	if len(rest) > 0 {
		msgs, err := s.load(rest, false)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			now[m.msg.UID], modseqs[m.msg.UID] = m.msg.Flags, m.msg.ModSeq
		}
	}
	lists := make([][]string, 0, len(now))
	for _, fl := range now {
		lists = append(lists, fl)
	}
	if err := s.announceFlagLists(w, lists); err != nil {
		return err
	}
	for _, it := range items {
		fl, ok := now[it.uid]
		if !ok || it.seq == 0 {
			continue // expunged meanwhile, or not announced to this client yet
		}
		rw := w.CreateMessage(it.seq)
		rw.WriteUID(imap.UID(it.uid))
		rw.WriteFlags(s.withRecent(imapFlags(fl), it.uid))
		if condStore {
			rw.WriteModSeq(modseqs[it.uid])
		}
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}
