package store

// RecentFrom is the lowest UID that is still \Recent in m.
func (m *Mailbox) RecentFrom() uint32 {
	if m.FirstRecent == 0 {
		return m.UIDNext
	}
	return m.FirstRecent
}

// SetFirstRecent records that read-write sessions have seen every UID
// below uid. It never moves back and changes no MODSEQ (\Recent is not a
// stored flag).
func (s *Store) SetFirstRecent(mbox uint64, uid uint32) error {
	return s.update(func(t *Tx) error {
		m, err := t.Mailbox(mbox)
		if err != nil {
			return err
		}
		if m.FirstRecent != 0 && uid <= m.FirstRecent {
			return nil
		}
		m.FirstRecent = uid
		return t.putMailbox(m)
	})
}
