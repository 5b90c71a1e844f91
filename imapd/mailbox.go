package imapd

import (
	"errors"

	"github.com/emersion/go-imap/v2"

	"schulhof/store"
)

// CREATE, DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE.

func (s *session) Create(name string, opts *imap.CreateOptions) error {
	name = mailboxName(name)
	special := ""
	if opts != nil && len(opts.SpecialUse) > 0 {
		switch a := opts.SpecialUse[0]; a {
		case imap.MailboxAttrSent, imap.MailboxAttrDrafts, imap.MailboxAttrTrash,
			imap.MailboxAttrJunk, imap.MailboxAttrArchive:
			special = string(a)
		default:
			return &imap.Error{Type: imap.StatusResponseTypeNo, Code: "USEATTR", Text: "Unbekanntes Special-Use-Attribut."}
		}
	}
	_, err := s.st().CreateMailbox(s.account, name, special)
	return s.storeErr(err)
}

func (s *session) Delete(name string) error {
	return storeErr(s.st().DeleteMailbox(s.account, mailboxName(name)))
}

func (s *session) Rename(oldName, newName string, _ *imap.RenameOptions) error {
	return s.storeErr(s.st().RenameMailbox(s.account, mailboxName(oldName), mailboxName(newName)))
}

func (s *session) Subscribe(name string) error {
	return storeErr(s.st().SetSubscribed(s.account, mailboxName(name), true))
}

func (s *session) Unsubscribe(name string) error {
	err := s.st().SetSubscribed(s.account, mailboxName(name), false)
	if errors.Is(err, store.ErrMailboxNotFound) {
		return nil // unsubscribing from a deleted mailbox is fine
	}
	return storeErr(err)
}
