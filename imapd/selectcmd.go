package imapd

import (
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	"schulhof/store"
)

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
	// The session tracker and the message count must come from the same
	// moment of the view.
	view.mu.Lock()
	tracker := view.tracker.NewSession()
	uids := append([]uint32(nil), view.uids...)
	view.mu.Unlock()
	s.mbox, s.view, s.tracker, s.readOnly = m, view, tracker, opts.ReadOnly

	keywords := map[string]struct{}{}
	firstUnseen := uint32(0)
	err = s.st().View(func(t *store.Tx) error {
		cur, err := t.Mailbox(m.ID)
		if err != nil {
			return err
		}
		*m = *cur
		return t.ForEachMessage(m.ID, func(msg *store.Message) error {
			for _, f := range msg.Flags {
				if !strings.HasPrefix(f, `\`) {
					keywords[f] = struct{}{}
				}
			}
			if firstUnseen == 0 && !msg.HasFlag(string(imap.FlagSeen)) {
				if i, ok := slices.BinarySearch(uids, msg.UID); ok {
					firstUnseen = uint32(i + 1)
				}
			}
			return nil
		})
	})
	if err != nil {
		s.unselect()
		return nil, storeErr(err)
	}
	flags := mailboxFlags(keywords)
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
		FirstUnseenSeqNum: firstUnseen,
		UIDNext:           imap.UID(uidNext),
		UIDValidity:       m.UIDValidity,
	}, nil
}

func (s *session) Unselect() error {
	s.unselect()
	return nil
}

func (s *session) unselect() {
	if s.tracker != nil {
		s.tracker.Close()
		s.srv.reg.release(s.view)
	}
	s.mbox, s.view, s.tracker, s.readOnly, s.searchRes = nil, nil, nil, false, nil
}
