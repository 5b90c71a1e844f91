package imapd

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/store"
)

// LIST (with SPECIAL-USE, CHILDREN, LIST-EXTENDED and LIST-STATUS) and
// LSUB (the library maps it to LIST with SelectSubscribed).
func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, opts *imap.ListOptions) error {
	if len(patterns) == 1 && patterns[0] == "" {
		// LIST "" "": the hierarchy delimiter.
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: store.MailboxDelim})
	}
	boxes, err := s.st().Mailboxes(s.account)
	if err != nil {
		return err
	}
	for i := range boxes {
		m := &boxes[i]
		match := false
		for _, p := range patterns {
			if imapserver.MatchList(m.Name, store.MailboxDelim, ref, p) {
				match = true
				break
			}
		}
		if !match {
			continue
		}
		if opts.SelectSubscribed && !m.Subscribed {
			continue
		}
		if opts.SelectSpecialUse && m.SpecialUse == "" {
			continue
		}
		data := &imap.ListData{Mailbox: m.Name, Delim: store.MailboxDelim}
		if hasChildren(boxes, m.Name) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasChildren)
		} else {
			data.Attrs = append(data.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if m.Subscribed && (opts.ReturnSubscribed || opts.SelectSubscribed) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		// Special-use attributes always: several clients look for them in
		// a plain LIST (RFC 6154 allows it).
		if m.SpecialUse != "" {
			data.Attrs = append(data.Attrs, imap.MailboxAttr(m.SpecialUse))
		}
		if opts.ReturnStatus != nil {
			data.Status, err = s.statusOf(m, opts.ReturnStatus)
			if err != nil {
				return err
			}
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

func hasChildren(boxes []store.Mailbox, name string) bool {
	for _, b := range boxes {
		if strings.HasPrefix(b.Name, name+string(store.MailboxDelim)) {
			return true
		}
	}
	return false
}
