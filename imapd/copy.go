package imapd

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// COPY, UID COPY, MOVE and UID MOVE.
func (s *session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	return s.copy(numSet, dest, false)
}

// Move copies and expunges in one transaction. Only COPYUID is written
// here; the EXPUNGEs reach the client once, through the tracker.
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	data, err := s.copy(numSet, dest, true)
	if err != nil {
		return err
	}
	if data != nil {
		if err := w.WriteCopyData(data); err != nil {
			return err
		}
	}
	s.syncView()
	return nil
}

func (s *session) copy(numSet imap.NumSet, dest string, move bool) (*imap.CopyData, error) {
	items := s.resolve(numSet)
	res, err := s.st().CopyMessages(s.view.id, uidsOf(items), s.account, mailboxName(dest), move, s.tracker)
	if err != nil {
		e := s.storeErr(err)
		if ie, ok := e.(*imap.Error); ok && ie.Code == imap.ResponseCodeNonExistent {
			ie.Code = imap.ResponseCodeTryCreate
		}
		return nil, e
	}
	if len(res.Dest) == 0 {
		return nil, nil // nothing copied: no COPYUID (an empty set is not valid)
	}
	data := &imap.CopyData{UIDValidity: res.UIDValidity}
	for i := range res.Source {
		data.SourceUIDs.AddNum(imap.UID(res.Source[i]))
		data.DestUIDs.AddNum(imap.UID(res.Dest[i]))
	}
	if m, err := s.st().MailboxByName(s.account, mailboxName(dest)); err == nil {
		s.catchUp(m.ID)
	}
	return data, nil
}
