package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestEraseAccountMailFiles: a platform erasure removes the person's
// mailboxes (more messages than one chunk), home tree (more entries than
// one chunk, nested), group memberships and account record; the mail
// they sent stays in the recipient's mailbox; the name record and one
// privacy.erase audit record stay; the report counts what went.
func TestEraseAccountMailFiles(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "paula.p")
	mkAccount(t, s, "carl.c")
	if err := s.CreateGroup(Group{Name: "7b", Kind: "class", Members: []string{"carl.c", "paula.p"}}); err != nil {
		t.Fatal(err)
	}
	// carl's copy of what paula sent him, and paula's own mail
	sent := deliver(t, s, "Subject: von paula an carl\r\n\r\nHallo Carl", "carl.c", "paula.p")
	for i := range eraseChunk + 20 {
		deliver(t, s, fmt.Sprintf("Subject: nr %d\r\n\r\nnur fuer paula %d", i, i), "paula.p")
	}
	home := HomeTree("paula.p")
	now := time.Now()
	for d := range 3 {
		dir := fmt.Sprintf("/ordner%d", d)
		if err := s.FileMkdir(home, dir, now, NoLimits()); err != nil {
			t.Fatal(err)
		}
		if err := s.FileMkdir(home, dir+"/tief", now, NoLimits()); err != nil {
			t.Fatal(err)
		}
		for i := range eraseChunk / 2 {
			if err := putString(t, s, home, fmt.Sprintf("%s/tief/datei%d.txt", dir, i), fmt.Sprintf("inhalt %d %d", d, i), -1); err != nil {
				t.Fatal(err)
			}
		}
	}
	big := strings.Repeat("x", InlineMax+1) // a blob file, not inline
	if err := putString(t, s, home, "/gross.bin", big, -1); err != nil {
		t.Fatal(err)
	}
	blobsBefore, _ := s.BlobCount()

	r, err := s.EraseAccount("paula.p", ErasePlatform)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Account("paula.p"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("account still there: %v", err)
	}
	if given, _ := s.NameGiven("paula.p"); !given {
		t.Fatal("the name record went: the name could be given again")
	}
	if r.Items["mail"] < eraseChunk+21 || r.Items["files"] < 3*(eraseChunk/2)+7 || r.Items["accounts"] != 1 || r.Items["groups"] != 1 {
		t.Fatalf("report %s", r.Summary())
	}
	if r.BytesFreed < int64(len(big)) {
		t.Fatalf("bytes freed %d < %d", r.BytesFreed, len(big))
	}
	if n, _ := s.TreeEntries(home); n != 0 {
		t.Fatalf("home tree still has %d entries", n)
	}
	var mailboxes int
	s.View(func(tx *Tx) error {
		m, err := tx.Mailboxes("paula.p")
		mailboxes = len(m)
		return err
	})
	if mailboxes != 0 {
		t.Fatalf("%d mailboxes left", mailboxes)
	}
	if g, _ := s.Group("7b"); g.HasMember("paula.p") || !g.HasMember("carl.c") {
		t.Fatalf("group after erasure: %+v", g)
	}
	// carl still has what paula sent him, byte for byte
	var msg *Message
	s.View(func(tx *Tx) error {
		var err error
		msg, err = tx.Message(sent[0].Mailbox, sent[0].UID)
		return err
	})
	if msg == nil {
		t.Fatal("the recipient lost the message the erased person sent")
	}
	rc, err := s.OpenContent(msg.Blob)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, []byte("Subject: von paula an carl\r\n\r\nHallo Carl")) {
		t.Fatalf("recipient's copy changed: %q", got)
	}
	if n, _ := s.BlobCount(); n != 1 || blobsBefore <= 1 {
		t.Fatalf("blobs with references: %d (before %d), want only carl's message", n, blobsBefore)
	}
	log, _ := s.AuditLog(time.Time{})
	if len(log) != 1 || log[0].Action != ActionErase || log[0].Target != "paula.p" {
		t.Fatalf("audit %+v", log)
	}
	if errs := s.Check(); len(errs) > 0 {
		t.Fatal(errs)
	}
	// Erasing again finds nothing: the account is gone.
	if _, err := s.EraseAccount("paula.p", ErasePlatform); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second erasure: %v", err)
	}
}

// TestEraseComms: withdrawing communication consent erases mail and chat
// and keeps the account and its files.
func TestEraseComms(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "paula.p")
	deliver(t, s, "Subject: a\r\n\r\nb", "paula.p")
	if err := putString(t, s, HomeTree("paula.p"), "/bleibt.txt", "bleibt", -1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PostMessage(DirectRoomID("paula.p", "zora.z"), "paula.p", "hallo zora", time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	r, err := s.EraseAccount("paula.p", EraseComms)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Items["files"]; ok {
		t.Fatalf("comms erasure ran the files provider: %s", r.Summary())
	}
	if _, err := s.Account("paula.p"); err != nil {
		t.Fatal("account went with a comms erasure")
	}
	if _, err := s.FileStat(HomeTree("paula.p"), "/bleibt.txt"); err != nil {
		t.Fatal("files went with a comms erasure")
	}
	if r.Items["mail"] == 0 || r.Items["chat"] == 0 {
		t.Fatalf("report %s", r.Summary())
	}
}
