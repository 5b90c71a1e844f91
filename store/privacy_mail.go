package store

// Privacy provider "mail": the person's mailboxes and the messages in
// them. Mail they sent stays with its recipients: a delivery puts the
// message into each recipient's own mailbox (one shared blob, one
// reference per mailbox), so erasing the sender's mailboxes drops only
// the sender's references; the content goes when its last reference does.

import "encoding/binary"

func init() {
	registerPrivacy(PrivacyProvider{
		Name: "mail",
		Buckets: [][]byte{bucketMailboxes, bucketMailboxNames, bucketMailMsgs, bucketMailExpunged, bucketMailAppends,
			bucketMailMeta, bucketMailState, bucketMailSent, bucketMailKeywords, bucketMailSubs,
			bucketMailSearch, bucketMailUnseen},
		Categories: []int{CategoryTeaching, CategoryAutomatic},
		Keeps: "E-Mail: Postfächer (Ordnernamen, Abonnements), Nachrichten mit Kopfzeilen und Inhalt, " +
			"Markierungen und Schlagwörter; für die Begrenzung des Massenversands die Zeitpunkte " +
			"der in der letzten Stunde gesendeten Nachrichten. Gesendete Nachrichten liegen in den " +
			"Postfächern der Empfänger und gehören zu deren Daten.",
		Retention: "bis die Person sie löscht, bis zum Widerruf der Einwilligung (auch nur der für " +
			"E-Mail und Chat) oder dem Ende der Schulzeit; Versandzeitpunkte eine Stunde",
		Comms: true,
		Erase: eraseMail,
	})
}

func eraseMail(s *Store, account string, r *ErasureReport) error {
	// Messages first, a chunk per transaction; a mailbox goes once empty.
	err := s.eraseLoop(r, "mail", func(t *Tx) (int, bool, error) {
		k, v := t.bucket(bucketMailboxNames).Cursor().Seek([]byte(account + "\x00"))
		if k == nil || !hasPrefix(k, []byte(account+"\x00")) {
			return 0, true, nil
		}
		m, err := t.Mailbox(binary.BigEndian.Uint64(v))
		if err != nil {
			return 0, false, err
		}
		n, err := t.eraseMailboxChunk(m)
		return n, false, err
	})
	if err != nil {
		return err
	}
	// Subscriptions and the sent-mail counter are small: one transaction.
	return s.eraseLoop(r, "mail", func(t *Tx) (int, bool, error) {
		n, err := t.deletePrefix(bucketMailSubs, []byte(account+"\x00"), eraseChunk)
		if err != nil || n == eraseChunk {
			return n, false, err
		}
		k, err := t.deletePrefix(bucketMailSent, []byte(account+"\x00"), eraseChunk-n)
		return n + k, n+k < eraseChunk, err
	})
}

// eraseMailboxChunk removes up to eraseChunk messages of m; when none are
// left, the mailbox itself (its name, tombstones, keywords and unseen
// index). Unlike deleteMailbox it keeps no subscription: the person's
// subscriptions go too.
func (t *Tx) eraseMailboxChunk(m *Mailbox) (int, error) {
	prefix := mboxKey(m.ID)
	c := t.bucket(bucketMailMsgs).Cursor()
	n := 0
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix) && n < eraseChunk; k, v = c.Seek(prefix) {
		var msg Message
		if err := decodeMessage(v, &msg); err != nil {
			return n, err
		}
		if err := c.Delete(); err != nil {
			return n, err
		}
		if err := t.bucket(bucketMailUnseen).Delete(msgKey(m.ID, msg.UID)); err != nil {
			return n, err
		}
		if err := t.dropBlobRef(msg.Blob); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		// Sessions learn of it with the mailbox's deletion below (the
		// account's sessions are closed by then anyway).
		return n, nil
	}
	x, err := t.deletePrefix(bucketMailExpunged, prefix, eraseChunk)
	if err != nil || x == eraseChunk {
		return x, err
	}
	if x, err := t.deletePrefix(bucketMailAppends, prefix, eraseChunk); err != nil || x == eraseChunk {
		return x, err
	}
	if x, err := t.deletePrefix(bucketMailUnseen, prefix, eraseChunk); err != nil || x == eraseChunk {
		return x, err // none left by the loop above; kept in step with it anyway
	}
	if err := t.deleteKeywords(m.ID); err != nil {
		return 0, err
	}
	if err := t.bucket(bucketMailboxNames).Delete(nameKey(m.Account, m.Name)); err != nil {
		return 0, err
	}
	t.publish(Event{Kind: MailChanged, Account: m.Account, Data: MailChange{
		Mailbox: m.ID, Account: m.Account, ModSeq: m.HighestModSeq + 1, Deleted: true}})
	return 1, t.bucket(bucketMailboxes).Delete(mboxKey(m.ID))
}
