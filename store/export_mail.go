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
	var dirs []string
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
		dirs = append(dirs, dir)
	}
	return exportMailIndex(s, account, boxes, dirs, out)
}

// exportMailIndex writes what the .eml files do not hold: the folders
// with their subscriptions and keyword lists (mail/ordner.json) and per message its
// arrival time and flags (\Seen, keywords; mail/markierungen.json), in a
// second pass over the messages, exportChunk at a time.
func exportMailIndex(s *Store, account string, boxes []Mailbox, dirs []string, out ExportSink) error {
	subs, err := s.Subscriptions(account)
	if err != nil {
		return err
	}
	type folder struct {
		Name       string    `json:"name"`
		Path       string    `json:"pfad"`
		SpecialUse string    `json:"sonderordner,omitempty"`
		Subscribed bool      `json:"abonniert"`
		Created    time.Time `json:"angelegt"`
		// Keywords is the folder's keyword list (maillimits.go), also
		// those no message carries now.
		Keywords []string `json:"schlagwoerter"`
	}
	folders := []folder{}
	for i, m := range boxes {
		var kw []string
		if err := s.view(func(t *Tx) error {
			var err error
			kw, err = t.Keywords(m.ID)
			return err
		}); err != nil {
			return err
		}
		if kw == nil {
			kw = []string{}
		}
		folders = append(folders, folder{m.Name, dirs[i] + "/", m.SpecialUse, subs[m.Name], m.Created, kw})
	}
	if err := writeJSON(out, "mail/ordner.json", folders); err != nil {
		return err
	}
	type flags struct {
		File     string    `json:"datei"`
		Internal time.Time `json:"eingang"`
		Size     int64     `json:"bytes"`
		Flags    []string  `json:"markierungen"`
	}
	list, err := newJSONList(out, "mail/markierungen.json")
	if err != nil {
		return err
	}
	for i, m := range boxes {
		err := s.scanChunks(bucketMailMsgs, mboxKey(m.ID), func(k, v []byte) error {
			var msg Message
			if err := decodeMessage(v, &msg); err != nil {
				return err
			}
			f := flags{fmt.Sprintf("%s/%06d.eml", dirs[i], binary.BigEndian.Uint32(k[8:])), msg.Internal, msg.Size, msg.Flags}
			if f.Flags == nil {
				f.Flags = []string{}
			}
			return list.add(f)
		})
		if err != nil {
			return err
		}
	}
	return list.close()
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
