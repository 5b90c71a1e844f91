package imapd

import (
	"reflect"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// EXPUNGE, UID EXPUNGE and the silent expunge of CLOSE. The EXPUNGE
// responses for this session come from its tracker (queued in commit
// order like everyone else's), written by the library's poll after the
// command, so they are numbered correctly and never sent twice.
func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if s.readOnly {
		if isCloseWriter(w) {
			return nil // CLOSE after EXAMINE expunges nothing
		}
		return s.checkWritable()
	}
	var set imap.NumSet = imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	if uids != nil {
		set = *uids
	}
	items := s.resolve(set)
	msgs, err := s.load(items, false)
	if err != nil {
		return err
	}
	var del []uint32
	for _, m := range msgs {
		if m.msg.HasFlag(string(imap.FlagDeleted)) {
			del = append(del, m.msg.UID)
		}
	}
	if len(del) == 0 {
		return nil
	}
	if _, err := s.st().Expunge(s.view.id, del, s.tracker); err != nil {
		return err
	}
	s.syncView()
	return nil
}

// isCloseWriter tells CLOSE (the library passes a writer without a
// connection) from EXPUNGE. The library offers no other way to know.
func isCloseWriter(w *imapserver.ExpungeWriter) bool {
	if w == nil {
		return true
	}
	f := reflect.ValueOf(w).Elem().FieldByName("conn")
	return f.IsValid() && f.IsNil()
}
