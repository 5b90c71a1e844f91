package imapd

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/store"
)

// STORE and UID STORE.
func (s *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, _ *imap.StoreOptions) error {
	if err := s.checkWritable(); err != nil {
		return err
	}
	items := s.resolve(numSet)
	op := map[imap.StoreFlagsOp]store.FlagOp{
		imap.StoreFlagsSet: store.FlagsSet, imap.StoreFlagsAdd: store.FlagsAdd, imap.StoreFlagsDel: store.FlagsRemove,
	}[flags.Op]
	// Origin = this session's tracker: other sessions get FETCH FLAGS from
	// the feed, this one answers below.
	if _, err := s.st().StoreFlags(s.view.id, uidsOf(items), op, storeFlags(flags.Flags), s.tracker); err != nil {
		return s.storeErr(err)
	}
	if flags.Silent {
		return nil
	}
	msgs, err := s.load(items, false)
	if err != nil {
		return err
	}
	for i := range msgs {
		if msgs[i].seq == 0 {
			continue
		}
		rw := w.CreateMessage(msgs[i].seq)
		rw.WriteUID(imap.UID(msgs[i].msg.UID))
		rw.WriteFlags(imapFlags(msgs[i].msg.Flags))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}
