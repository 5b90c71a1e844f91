package store

import (
	"encoding/json"
	"fmt"
	"testing"

	"schulhof/internal/mailmsg"
)

// HeaderIndexesOf answers, for every message of the mailbox, what
// SearchIndex answers for that message's blob, after APPEND, MOVE in and
// out, STORE and EXPUNGE, whatever order the content keys (hashes and sequenced) are in; FlagsModSeqOf
// answers the records' flags and MODSEQs.
func TestHeaderIndexesOfMatchesRecords(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	for i := range 40 {
		body := fmt.Sprintf("Subject: Nachricht %d\r\nFrom: Lehrer %d <l%d@schule.test>\r\n\r\nbody\r\n", i, i%3, i)
		if i%2 == 0 { // both kinds of content key in one mailbox
			deliver(t, s, body, "anna")
		} else {
			deliverInline(t, s, body, "anna")
		}
	}
	deliver(t, s, "Subject: Nachricht 7\r\nFrom: Lehrer 1 <l7@schule.test>\r\n\r\nbody\r\n", "anna") // a blob twice
	in, _ := s.MailboxByName("anna", Inbox)
	if _, err := s.CreateMailbox("anna", "Archiv", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CopyMessages(in.ID, []uint32{3, 4, 5}, "anna", "Archiv", true, nil); err != nil {
		t.Fatal(err)
	}
	arch, _ := s.MailboxByName("anna", "Archiv")
	if _, err := s.CopyMessages(arch.ID, []uint32{1}, "anna", Inbox, true, nil); err != nil {
		t.Fatal(err)
	}
	s.StoreFlags(in.ID, []uint32{2, 8, 41}, FlagsAdd, []string{`\Seen`, "$Label1"}, nil)
	s.Expunge(in.ID, []uint32{10, 11}, nil)
	// A record as older versions stored it (JSON).
	if err := s.update(func(tx *Tx) error {
		m, err := tx.Message(in.ID, 6)
		if err != nil {
			return err
		}
		v, _ := json.Marshal(m)
		return tx.bucket(bucketMailMsgs).Put(msgKey(in.ID, 6), v)
	}); err != nil {
		t.Fatal(err)
	}
	uids := []uint32{1, 2, 3, 6, 7, 8, 9, 10, 12, 20, 40, 41, 42, 99}
	for _, mbox := range []uint64{in.ID, arch.ID} {
		want := map[uint32]string{}
		wantFlags := map[uint32]string{}
		s.View(func(tx *Tx) error {
			return tx.ForEachMessage(mbox, func(m *Message) error {
				idx, ok := tx.SearchIndex(m.Blob)
				if !ok {
					t.Fatalf("blob of %d not indexed", m.UID)
				}
				want[m.UID] = string(idx)
				wantFlags[m.UID] = fmt.Sprint(m.ModSeq, m.Flags)
				return nil
			})
		})
		got := map[uint32]string{}
		gotFlags := map[uint32]string{}
		s.View(func(tx *Tx) error {
			if err := tx.HeaderIndexesOf(mbox, uids, func(i int, idx []byte, ok bool) {
				if !ok {
					t.Errorf("uid %d: no index", uids[i])
				}
				got[uids[i]] = string(idx)
			}); err != nil {
				t.Fatal(err)
			}
			return tx.FlagsModSeqOf(mbox, uids, func(uid uint32, modseq uint64, flags []string) {
				gotFlags[uid] = fmt.Sprint(modseq, flags)
			})
		})
		n := 0
		for _, u := range uids {
			w, ok := want[u]
			if !ok {
				if _, there := got[u]; there {
					t.Fatalf("mailbox %d uid %d: answered, but not in the mailbox", mbox, u)
				}
				continue
			}
			n++
			if got[u] != w || gotFlags[u] != wantFlags[u] {
				t.Fatalf("mailbox %d uid %d: index %q flags %s, want %q %s", mbox, u, got[u], gotFlags[u], w, wantFlags[u])
			}
			if !mailmsg.MatchIndex([]byte(got[u]), []byte("subject"), []byte("nachricht")) {
				t.Fatalf("uid %d: index without its subject: %q", u, got[u])
			}
		}
		if n != len(got) || n == 0 {
			t.Fatalf("mailbox %d: %d answers, %d expected", mbox, len(got), n)
		}
	}
	if err := s.View(func(tx *Tx) error { return tx.HeaderIndexesOf(in.ID, nil, nil) }); err != nil {
		t.Fatalf("no UIDs: %v", err)
	}
}
