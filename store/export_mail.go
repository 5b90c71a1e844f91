package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// The mail part of an export: every message of every folder as an .eml
// file (the stored bytes, unchanged), in mail/<folder>/<UID>.eml; a
// folder "Schule/Mathe" is the zip folder mail/Schule/Mathe. Folder names
// pass through safeNames. Messages are listed exportChunk at a time and
// each is copied from its blob (or inline content) on its own; a message
// expunged meanwhile is left out.

func init() { registerExport("mail", exportMail) }

func exportMail(s *Store, account string, out ExportSink) error {
	var boxes []Mailbox
	if err := s.view(func(t *Tx) error {
		var err error
		boxes, err = t.Mailboxes(account)
		return err
	}); err != nil {
		return err
	}
	if _, err := out.Create("mail/", time.Now()); err != nil {
		return err
	}
	names := newSafeNames()
	for _, m := range boxes {
		dir := "mail"
		for _, part := range strings.Split(m.Name, string(MailboxDelim)) {
			if emlName.MatchString(strings.ToLower(safeName(part))) {
				part += " (Ordner)" // message files are not registered in names
			}
			dir = names.join(dir, part)
		}
		if _, err := out.Create(dir+"/", m.Created); err != nil {
			return err
		}
		if err := exportMailbox(s, m.ID, dir, out); err != nil {
			return fmt.Errorf("mailbox %q: %w", m.Name, err)
		}
	}
	return nil
}

// emlName is what a message file is called.
var emlName = regexp.MustCompile(`^[0-9]+\.eml$`)

func exportMailbox(s *Store, mbox uint64, dir string, out ExportSink) error {
	return s.scanChunks(bucketMailMsgs, mboxKey(mbox), func(k, v []byte) error {
		var msg Message
		if err := decodeMessage(v, &msg); err != nil {
			return err
		}
		uid := binary.BigEndian.Uint32(k[8:])
		msg.UID = uid
		r, err := s.OpenMessage(mbox, uid, msg.Blob)
		if errors.Is(err, ErrMessageGone) {
			return nil
		}
		if err != nil {
			return err
		}
		defer r.Close()
		// UIDs are unique in a mailbox and folders never look like this
		// name, so message files need no entry in names (a mailbox of
		// 100,000 messages costs no memory here).
		w, err := out.Create(fmt.Sprintf("%s/%06d.eml", dir, uid), msg.Internal)
		if err != nil {
			return err
		}
		_, err = io.Copy(w, r)
		return err
	})
}
