package store

import "errors"

// StoreFlagsUnchangedSince is StoreFlags for STORE (UNCHANGEDSINCE n)
// (RFC 7162 section 3.1.3): in the same transaction, messages whose MODSEQ
// is above unchangedSince are left alone and returned in modified; the
// others get StoreFlags. The check and the change cannot be separated by
// another session's commit.
func (s *Store) StoreFlagsUnchangedSince(mbox uint64, uids []uint32, unchangedSince uint64, op FlagOp, flags []string, origin any) (changed []Message, modified []uint32, err error) {
	err = s.batch(func(t *Tx) error {
		changed, modified = nil, nil // a batch may run its function again
		var pass []uint32
		for _, uid := range uids {
			m, err := t.Message(mbox, uid)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if m.ModSeq > unchangedSince {
				modified = append(modified, uid)
			} else {
				pass = append(pass, uid)
			}
		}
		if len(pass) == 0 {
			return nil
		}
		var err error
		changed, err = t.StoreFlags(mbox, pass, op, flags, origin)
		return err
	})
	return changed, modified, err
}
