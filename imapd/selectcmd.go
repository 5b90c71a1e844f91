package imapd

import (
	"errors"
	"slices"

	"github.com/emersion/go-imap/v2"

	"schulhof/store"
)

// errFound ends a scan early.
var errFound = errors.New("found")

// SELECT, EXAMINE and UNSELECT/CLOSE.
func (s *session) Select(name string, opts *imap.SelectOptions) (*imap.SelectData, error) {
	s.unselect()
	m, err := s.st().MailboxByName(s.account, mailboxName(name))
	if err != nil {
		return nil, storeErr(err)
	}
	view, err := s.srv.reg.acquire(m.ID)
	if err != nil {
		return nil, storeErr(err)
	}
	// An open view may lag behind commits made before this SELECT (another
	// session's STORE of a new keyword): FLAGS must include them.
	view.waitFor(m.HighestModSeq)
	// The session tracker and the message count must come from the same
	// moment of the view.
	view.mu.Lock()
	tracker := view.tracker.NewSession()
	tracker.SetSessionFlags(func(uid imap.UID, flags []imap.Flag) []imap.Flag {
		return s.withRecent(flags, uint32(uid))
	})
	tracker.SetCurrentState(currentState{s: s, view: view})
	uids := append([]uint32(nil), view.uids...)
	modseq := view.modseq // HIGHESTMODSEQ of the state this SELECT reports
	numRecent, persistRecent := s.claimRecent(view, uids, opts.ReadOnly)
	view.mu.Unlock()
	if persistRecent != 0 {
		if err := s.st().SetFirstRecent(m.ID, persistRecent); err != nil {
			s.unselect()
			return nil, storeErr(err)
		}
	}
	s.mbox, s.view, s.tracker, s.readOnly = m, view, tracker, opts.ReadOnly

	firstUnseen := uint32(0)
	err = s.st().View(func(t *store.Tx) error {
		cur, err := t.Mailbox(m.ID)
		if err != nil {
			return err
		}
		*m = *cur
		if m.Counted && m.Unseen == 0 {
			return nil // nothing unseen: no scan
		}
		err = t.ForEachMessage(m.ID, func(msg *store.Message) error {
			if !msg.HasFlag(string(imap.FlagSeen)) {
				if i, ok := slices.BinarySearch(uids, msg.UID); ok {
					firstUnseen = uint32(i + 1)
					return errFound
				}
			}
			return nil
		})
		if err == errFound {
			err = nil
		}
		return err
	})
	if err != nil {
		s.unselect()
		return nil, storeErr(err)
	}
	view.mu.Lock()
	flags := view.flagsLocked()
	s.kwSeen = view.kwGen
	view.mu.Unlock()
	perm := []imap.Flag{}
	if !opts.ReadOnly {
		perm = append(append(perm, flags[:5]...), imap.FlagWildcard)
	}
	uidNext := m.UIDNext
	if n := len(uids); n > 0 && uids[n-1] >= uidNext {
		uidNext = uids[n-1] + 1
	}
	return &imap.SelectData{
		Flags:             flags,
		PermanentFlags:    perm,
		NumMessages:       uint32(len(uids)),
		NumRecent:         uint32(numRecent),
		FirstUnseenSeqNum: firstUnseen,
		UIDNext:           imap.UID(uidNext),
		UIDValidity:       m.UIDValidity,
		HighestModSeq:     max(modseq, 1),
	}, nil
}

func (s *session) Unselect() error {
	s.unselect()
	return nil
}

func (s *session) unselect() {
	if s.tracker != nil {
		if first := s.giveUpRecent(s.view); first != 0 {
			// Arrivals this session saw stay seen after it.
			if err := s.st().SetFirstRecent(s.view.id, first); err != nil {
				s.log.Warn("imap: recording \\Recent", "err", err)
			}
		}
		s.tracker.Close()
		s.srv.reg.release(s.view)
	}
	s.recent.reset()
	s.mbox, s.view, s.tracker, s.readOnly, s.searchRes = nil, nil, nil, false, nil
}
