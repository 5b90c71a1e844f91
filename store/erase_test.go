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
	s, err := Open(t.TempDir(), Options{UnseenIndexFrom: 1}) // every INBOX with its unseen index
	if err != nil {
		t.Fatal(err)
	}
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
	grp := GroupTree("7b")
	if err := s.FileMkdir(grp, "/projekt", now, NoLimits()); err != nil {
		t.Fatal(err)
	}
	putAs(t, s, grp, "/projekt/von-paula.txt", "paulas referat", "paula.p")
	putAs(t, s, grp, "/projekt/von-carl.txt", "carls referat", "carl.c")
	putAs(t, s, grp, "/projekt/gleich.txt", "carls referat", "paula.p") // same bytes as carl's
	blobsBefore, _ := s.BlobCount()

	var unseenBefore int
	s.View(func(tx *Tx) error { unseenBefore = tx.bucket(bucketMailUnseen).Stats().KeyN; return nil })
	if unseenBefore != eraseChunk+22 { // paula's eraseChunk+21, carl's 1
		t.Fatalf("%d unseen index entries before the erasure", unseenBefore)
	}
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
	// The unseen index keeps only carl's one message (no key of paula's
	// mailboxes: their IDs and UIDs would say how much mail she had).
	var unseenKeys int
	s.View(func(tx *Tx) error { unseenKeys = tx.bucket(bucketMailUnseen).Stats().KeyN; return nil })
	if unseenKeys != 1 {
		t.Fatalf("%d unseen index entries after the erasure, want carl's 1", unseenKeys)
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
	for p, want := range map[string]string{"/projekt/von-paula.txt": "", "/projekt/gleich.txt": "", "/projekt/von-carl.txt": "carls referat"} {
		e, rc, err := s.FileOpen(grp, p)
		if want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s uploaded by the erased person: %v", p, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != want || e.Uploader != "carl.c" {
			t.Errorf("%s: %q by %q", p, got, e.Uploader)
		}
	}
	if n, _ := s.TreeEntries(grp); n != 2 {
		t.Errorf("group tree has %d entries, want the folder and carl's file", n)
	}
	if n, _ := s.BlobCount(); n != 2 || blobsBefore <= 2 {
		t.Fatalf("contents with references: %d (before %d), want carl's message and file", n, blobsBefore)
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

// TestEntryCodecUploader: the uploader round-trips; a record written
// before the field (it ends after the content type) reads as unknown.
func TestEntryCodecUploader(t *testing.T) {
	e := FileEntry{ID: 9, Parent: 2, Name: "a.txt", Hash: strings.Repeat("cd", 32), ContentType: "text/plain", Uploader: "paula.p"}
	var got FileEntry
	if err := decodeEntry(encodeEntry(&e), &got); err != nil || got.Uploader != "paula.p" || got.ContentType != "text/plain" {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	e.Uploader = ""
	old := encodeEntry(&e)
	old = old[:len(old)-1] // the empty uploader's length byte: the old format
	got = FileEntry{}
	if err := decodeEntry(old, &got); err != nil || got.Uploader != "" || got.Name != "a.txt" || got.ContentType != "text/plain" {
		t.Fatalf("old record: %v %+v", err, got)
	}
}

func putAs(t *testing.T, s *Store, tr Tree, p, content, who string) {
	t.Helper()
	pb, err := s.WriteContent(strings.NewReader(content), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	if _, _, err := s.FilePut(tr, p, PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, ModTime: time.Now(), Limits: NoLimits(), Uploader: who}); err != nil {
		t.Fatal(err)
	}
}

// TestEraseChatReportsLogs: the person's chat messages become tombstones
// without author or text in place (the others keep theirs, seq for seq);
// a direct room moves to a pseudonym with the other person's read mark
// and index; frozen report contexts lose the person's text; reports they
// filed lose name and reason; the login log loses the records of their
// name (as typed, in any case, with the domain), and keeps others'.
func TestEraseChatReportsLogs(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "paula.p")
	mkAccount(t, s, "carl.c")
	now := time.Now()
	g := GroupRoomID("7b")
	post := func(room, who, text string) uint64 {
		t.Helper()
		m, err := s.PostMessage(room, who, text, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m.Seq
	}
	post(g, "carl.c", "carl eins")
	p1 := post(g, "paula.p", "paula geheim")
	post(g, "carl.c", "carl zwei")
	dm := DirectRoomID("carl.c", "paula.p")
	if err := s.OpenDirectRoom(dm); err != nil {
		t.Fatal(err)
	}
	post(dm, "paula.p", "paula direkt")
	c2 := post(dm, "carl.c", "carl direkt")
	if err := s.SetRead("carl.c", dm, c2); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRead("paula.p", g, p1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateReport(g, p1, "carl.c", "carls grund", 2, now, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateReport(dm, c2, "paula.p", "paulas grund", 2, now, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLogins([]LoginRecord{
		{Time: now, Account: "Paula.P@schule.test", Protocol: "imap", IP: "10.0.0.1"},
		{Time: now, Account: "paula.p", Protocol: "web", IP: "10.0.0.2", OK: true},
		{Time: now, Account: "paula.pp", Protocol: "web", IP: "10.0.0.3"},
		{Time: now, Account: "carl.c", Protocol: "web", IP: "10.0.0.4", OK: true},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EraseAccount("paula.p", ErasePlatform); err != nil {
		t.Fatal(err)
	}

	msgs, _, _ := s.History(g, 0, 10)
	if len(msgs) != 3 || msgs[0].Text != "carl eins" || msgs[2].Text != "carl zwei" || msgs[1].Seq != p1 ||
		!msgs[1].Deleted || msgs[1].Author != "" || msgs[1].Text != "" || msgs[1].DeletedBy != "" {
		t.Fatalf("class room after the erasure: %+v", msgs)
	}
	if dms, _ := s.DirectRoomsOf("paula.p"); len(dms) != 0 {
		t.Fatalf("the erased person still lists direct rooms %v", dms)
	}
	carls, _ := s.DirectRoomsOf("carl.c")
	if len(carls) != 1 || strings.Contains(carls[0], "paula") || !strings.Contains(carls[0], ErasedPeerPrefix) {
		t.Fatalf("carl's direct rooms: %v", carls)
	}
	msgs, _, _ = s.History(carls[0], 0, 10)
	if len(msgs) != 2 || !msgs[0].Deleted || msgs[0].Author != "" || msgs[1].Text != "carl direkt" || msgs[1].Author != "carl.c" {
		t.Fatalf("the direct room under its new name: %+v", msgs)
	}
	if old, _, _ := s.History(dm, 0, 10); len(old) != 0 {
		t.Fatalf("messages left under the old room ID: %+v", old)
	}
	if n, _ := s.Unread("carl.c", carls[0], 10); n != 0 {
		t.Fatalf("carl's read mark did not move with the room: %d unread", n)
	}
	reps, _ := s.Reports(true)
	if len(reps) != 2 {
		t.Fatalf("reports: %+v", reps)
	}
	for _, sum := range reps {
		r, err := s.ReadReport(sum.ID, "admin")
		if err != nil {
			t.Fatal(err)
		}
		raw := fmt.Sprintf("%+v", *r)
		if strings.Contains(raw, "paula") {
			t.Errorf("report %d still names or quotes the erased person: %s", r.ID, raw)
		}
		switch r.Reporter {
		case "carl.c":
			if r.Reason != "carls grund" || r.Author != "" || len(r.Context) != 3 || !r.Context[1].Deleted {
				t.Errorf("carl's report: %+v", r)
			}
		case "":
			if r.Reason != "" || r.Author != "carl.c" || r.Room != carls[0] {
				t.Errorf("paula's report: %+v", r)
			}
		}
	}
	log, _ := s.LoginLog("", time.Time{})
	var tried []string
	for _, l := range log {
		tried = append(tried, l.Account)
	}
	if strings.Join(tried, " ") != "paula.pp carl.c" {
		t.Fatalf("login log after the erasure: %v", tried)
	}
}

// TestEraseGroupFolders: folders the person made in a group tree go when
// nothing of others is left inside; one that still holds a classmate's
// file stays with its contents under a neutral name, so the person's name
// in a folder name is gone and nobody else loses a file.
func TestEraseGroupFolders(t *testing.T) {
	s := openTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "paula.p")
	mkAccount(t, s, "carl.c")
	if err := s.CreateGroup(Group{Name: "7b", Kind: "class", Members: []string{"carl.c", "paula.p"}}); err != nil {
		t.Fatal(err)
	}
	grp := GroupTree("7b")
	now := time.Now()
	for _, d := range []string{"/Referat Paula", "/Referat Paula/Quellen", "/Paulas Leeres"} {
		if err := s.FileMkdirBy(grp, d, "paula.p", now, NoLimits()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FileMkdirBy(grp, "/Carls Ordner", "carl.c", now, NoLimits()); err != nil {
		t.Fatal(err)
	}
	putAs(t, s, grp, "/Referat Paula/Quellen/paula.txt", "paulas text", "paula.p")
	putAs(t, s, grp, "/Referat Paula/carl.txt", "carls kommentar", "carl.c")
	putAs(t, s, grp, "/Carls Ordner/paula.txt", "paula bei carl", "paula.p")

	if _, err := s.EraseAccount("paula.p", ErasePlatform); err != nil {
		t.Fatal(err)
	}
	list := func(p string) []string {
		t.Helper()
		var names []string
		err := s.view(func(tx *Tx) error {
			e, err := tx.resolve(grp, p)
			if err != nil {
				return err
			}
			kids, err := tx.children(e.ID)
			for _, k := range kids {
				names = append(names, k.Name)
			}
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return names
	}
	if got := fmt.Sprint(list("/")); got != "[Carls Ordner "+erasedFolderName+"]" {
		t.Errorf("group root after erasure: %s", got)
	}
	if got := fmt.Sprint(list("/" + erasedFolderName)); got != "[carl.txt]" {
		t.Errorf("renamed folder holds %s, want carl's file only", got)
	}
	if got := fmt.Sprint(list("/Carls Ordner")); got != "[]" {
		t.Errorf("carl's folder holds %s, want paula's file gone and the folder kept", got)
	}
	if hits, _, err := s.FindBytes("Referat Paula", "Paulas Leeres", "Quellen"); err != nil || len(hits) != 0 {
		t.Errorf("folder names left in the store: %v %v", hits, err)
	}
}
