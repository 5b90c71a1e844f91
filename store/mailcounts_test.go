package store

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"schulhof/internal/mailmsg"
)

// recount is what the counters must say: a scan of the records.
func recount(t *testing.T, s *Store, id uint64) (unseen, deleted uint32) {
	t.Helper()
	err := s.View(func(tx *Tx) error {
		return tx.ForEachMessage(id, func(m *Message) error {
			if !m.HasFlag(`\Seen`) {
				unseen++
			}
			if m.HasFlag(`\Deleted`) {
				deleted++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return unseen, deleted
}

func checkCounts(t *testing.T, s *Store, account string) *Mailbox {
	t.Helper()
	m, err := s.MailboxByName(account, Inbox)
	if err != nil {
		t.Fatal(err)
	}
	u, d := recount(t, s, m.ID)
	if !m.Counted || m.Unseen != u || m.Deleted != d {
		t.Fatalf("counts counted=%v unseen=%d deleted=%d, records say %d %d", m.Counted, m.Unseen, m.Deleted, u, d)
	}
	return m
}

// Every append, flag change, copy, move and expunge keeps the mailbox's
// unseen and deleted counts equal to a scan of its messages.
func TestMailCountsFollowEveryChange(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	for i := range 6 {
		deliver(t, s, "Subject: m"+strings.Repeat("x", i)+"\r\n\r\nbody\r\n", "anna")
	}
	m := checkCounts(t, s, "anna")
	if m.Unseen != 6 {
		t.Fatalf("unseen %d, want 6", m.Unseen)
	}
	steps := []func() error{
		func() error {
			_, err := s.StoreFlags(m.ID, []uint32{1, 2, 3}, FlagsAdd, []string{`\Seen`}, nil)
			return err
		},
		func() error {
			_, err := s.StoreFlags(m.ID, []uint32{2, 3, 4}, FlagsAdd, []string{`\Deleted`}, nil)
			return err
		},
		func() error {
			_, err := s.StoreFlags(m.ID, []uint32{1, 2, 3}, FlagsAdd, []string{`\Seen`}, nil)
			return err
		}, // no change
		func() error {
			_, err := s.StoreFlags(m.ID, []uint32{3}, FlagsSet, []string{`\Answered`}, nil)
			return err
		},
		func() error {
			_, err := s.StoreFlags(m.ID, []uint32{1}, FlagsRemove, []string{`\Seen`}, nil)
			return err
		},
		func() error { _, err := s.Expunge(m.ID, []uint32{2, 4, 99}, nil); return err },
		func() error {
			_, err := s.CopyMessages(m.ID, []uint32{1, 3}, "anna", "Archive", false, nil)
			return err
		},
		func() error { _, err := s.CopyMessages(m.ID, []uint32{5, 6}, "anna", Inbox, true, nil); return err },
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		checkCounts(t, s, "anna")
	}
	a, _ := s.MailboxByName("anna", "Archive")
	if u, d := recount(t, s, a.ID); a.Unseen != u || a.Deleted != d || u != 2 {
		t.Fatalf("Archive counts %d %d, records %d %d", a.Unseen, a.Deleted, u, d)
	}
}

// A schema 3 store (no counts, no header index) opens as schema 4 with
// both built from its messages.
func TestMigrateMailCountsAndSearchIndex(t *testing.T) {
	dir := t.TempDir()
	s := openMailTest(t, dir)
	mkAccount(t, s, "anna")
	deliver(t, s, "From: =?utf-8?q?J=C3=BCrgen?= <JUERGEN@Schule.test>\r\nSubject: Elternabend MORGEN\r\n\r\nbody\r\n", "anna")
	deliver(t, s, "Subject: zwei\r\n\r\nbody\r\n", "anna")
	m, _ := s.MailboxByName("anna", Inbox)
	if _, err := s.StoreFlags(m.ID, []uint32{1}, FlagsAdd, []string{`\Seen`, `\Deleted`}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	db, err := bolt.Open(filepath.Join(dir, "schulhof.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketMailSearch); err != nil {
			return err
		}
		b := tx.Bucket(bucketMailboxes)
		c := b.Cursor()
		var keys, vals [][]byte
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var mb map[string]any
			json.Unmarshal(v, &mb)
			delete(mb, "unseen")
			delete(mb, "deleted")
			delete(mb, "counted")
			nv, _ := json.Marshal(mb)
			keys, vals = append(keys, append([]byte(nil), k...)), append(vals, nv)
		}
		for i := range keys {
			b.Put(keys[i], vals[i])
		}
		return tx.Bucket(bucketMeta).Put([]byte("schema"), u64(3))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s = openMailTest(t, dir)
	defer s.Close()
	m = checkCounts(t, s, "anna")
	if m.Unseen != 1 || m.Deleted != 1 {
		t.Fatalf("migrated counts %d %d, want 1 1", m.Unseen, m.Deleted)
	}
	err = s.View(func(tx *Tx) error {
		return tx.ForEachMessage(m.ID, func(msg *Message) error {
			idx, ok := tx.SearchIndex(msg.Blob)
			if !ok {
				t.Fatalf("message %d: no header index after the migration", msg.UID)
			}
			match := func(k, v string) bool { return mailmsg.MatchIndex(idx, []byte(k), []byte(v)) }
			if msg.UID == 1 && (!match("from", "jürgen") || !match("from", "juergen@schule.test") || !match("subject", "abend morgen") || match("subject", "zwei")) {
				t.Fatalf("index of 1 does not match as its header: %q", idx)
			}
			if msg.UID == 2 && (!match("subject", "zwei") || match("from", "")) {
				t.Fatalf("index of 2: %q", idx)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The header index goes with the blob's last reference.
func TestSearchIndexDroppedWithLastReference(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	mkAccount(t, s, "ben")
	got := deliver(t, s, "Subject: geteilt\r\n\r\nbody\r\n", "anna", "ben")
	var hash string
	s.View(func(tx *Tx) error {
		m, err := tx.Message(got[0].Mailbox, got[0].UID)
		if err == nil {
			hash = m.Blob
		}
		return err
	})
	has := func() bool {
		var ok bool
		s.View(func(tx *Tx) error { _, ok = tx.SearchIndex(hash); return nil })
		return ok
	}
	if !has() {
		t.Fatal("no header index after delivery")
	}
	if _, err := s.Expunge(got[0].Mailbox, []uint32{got[0].UID}, nil); err != nil {
		t.Fatal(err)
	}
	if !has() {
		t.Fatal("index gone while ben still has the message")
	}
	if _, err := s.Expunge(got[1].Mailbox, []uint32{got[1].UID}, nil); err != nil {
		t.Fatal(err)
	}
	if has() {
		t.Fatal("index kept after the last reference went")
	}
}

// A bulk append of a message kept as a blob file (over InlineMax) without
// a precomputed index indexes it from the file, inside the transaction.
func TestAppendMessagesIndexesBlobFiles(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	raw := "Subject: Große Datei\r\n\r\n" + strings.Repeat("x", InlineMax+10) + "\r\n"
	pb, err := s.WriteContent(strings.NewReader(raw), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	if pb.Data != nil {
		t.Fatal("expected a blob file")
	}
	if err := s.Update(func(tx *Tx) error { _, err := tx.AppendMessages("anna", Inbox, []NewMessage{{Blob: pb}}); return err }); err != nil {
		t.Fatal(err)
	}
	s.View(func(tx *Tx) error {
		idx, ok := tx.SearchIndex(pb.Hash)
		if !ok || !mailmsg.MatchIndex(idx, []byte("subject"), []byte("große")) {
			t.Fatalf("index %q %v", idx, ok)
		}
		return nil
	})
}

// FlagsOf gives the same flags as a full decode, for the UIDs asked,
// skipping missing ones.
func TestFlagsOfMatchesRecords(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	for range 5 {
		deliver(t, s, "Subject: x\r\n\r\nbody\r\n", "anna")
	}
	m, _ := s.MailboxByName("anna", Inbox)
	s.StoreFlags(m.ID, []uint32{2, 4}, FlagsAdd, []string{`\Seen`, "$Label1"}, nil)
	s.Expunge(m.ID, []uint32{3}, nil)
	want := map[uint32]string{}
	s.View(func(tx *Tx) error {
		return tx.ForEachMessage(m.ID, func(msg *Message) error { want[msg.UID] = strings.Join(msg.Flags, " "); return nil })
	})
	got := map[uint32]string{}
	s.View(func(tx *Tx) error {
		return tx.FlagsOf(m.ID, []uint32{1, 2, 3, 4, 5, 9}, func(uid uint32, flags []string) { got[uid] = strings.Join(flags, " ") })
	})
	if len(got) != 4 || len(want) != 4 {
		t.Fatalf("got %v want %v", got, want)
	}
	for u, w := range want {
		if got[u] != w {
			t.Fatalf("uid %d: %q, want %q", u, got[u], w)
		}
	}
}
