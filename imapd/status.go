package imapd

import (
	"github.com/emersion/go-imap/v2"

	"schulhof/store"
)

// STATUS.
func (s *session) Status(name string, opts *imap.StatusOptions) (*imap.StatusData, error) {
	m, err := s.st().MailboxByName(s.account, mailboxName(name))
	if err != nil {
		return nil, storeErr(err)
	}
	return s.statusOf(m, opts)
}

func (s *session) statusOf(m *store.Mailbox, opts *imap.StatusOptions) (*imap.StatusData, error) {
	d := &imap.StatusData{Mailbox: m.Name, UIDNext: imap.UID(m.UIDNext), UIDValidity: m.UIDValidity}
	n := m.Messages
	d.NumMessages = &n
	if opts.NumRecent {
		from := m.RecentFrom()
		if f, ok := s.srv.reg.firstRecent(m.ID); ok {
			from = f // arrivals claimed by an open session
		}
		var recent uint32
		err := s.st().View(func(t *store.Tx) error {
			uids, _, err := t.UIDs(m.ID)
			for _, u := range uids {
				if u >= from {
					recent++
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		d.NumRecent = &recent
	}
	if opts.Size {
		size := m.Size
		d.Size = &size
	}
	if opts.AppendLimit {
		l := s.AppendLimit()
		d.AppendLimit = &l
	}
	if opts.HighestModSeq {
		d.HighestModSeq = m.HighestModSeq
	}
	if (opts.NumUnseen || opts.NumDeleted) && m.Counted {
		// Kept with every change (store/mailcounts.go).
		unseen, deleted := m.Unseen, m.Deleted
		if opts.NumUnseen {
			d.NumUnseen = &unseen
		}
		if opts.NumDeleted {
			d.NumDeleted = &deleted
		}
	} else if opts.NumUnseen || opts.NumDeleted {
		var unseen, deleted uint32
		err := s.st().View(func(t *store.Tx) error {
			return t.ForEachMessage(m.ID, func(msg *store.Message) error {
				if !msg.HasFlag(string(imap.FlagSeen)) {
					unseen++
				}
				if msg.HasFlag(string(imap.FlagDeleted)) {
					deleted++
				}
				return nil
			})
		})
		if err != nil {
			return nil, err
		}
		if opts.NumUnseen {
			d.NumUnseen = &unseen
		}
		if opts.NumDeleted {
			d.NumDeleted = &deleted
		}
	}
	return d, nil
}
