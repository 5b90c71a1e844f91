package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// deliverInline delivers body the way smtpd does (WriteContent: inline
// content, no blob file) and returns the content key each recipient got.
func deliverInline(t *testing.T, s *Store, body string, to ...string) []string {
	t.Helper()
	pb, err := s.WriteContent(strings.NewReader(body), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Release()
	got, err := s.Deliver(Delivery{NewMessage: NewMessage{Blob: pb, Meta: []byte(`{"m":1}`)}, Recipients: to})
	if err != nil || len(got) != len(to) {
		t.Fatalf("delivered %+v, %v", got, err)
	}
	var keys []string
	for _, d := range got {
		keys = append(keys, messageKey(t, s, d.Mailbox, d.UID))
	}
	return keys
}

func messageKey(t *testing.T, s *Store, mbox uint64, uid uint32) string {
	t.Helper()
	var key string
	if err := s.View(func(tx *Tx) error {
		m, err := tx.Message(mbox, uid)
		if err == nil {
			key = m.Blob
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return key
}

// contentBuckets are the trees keyed by content key that every delivery
// writes.
var contentBuckets = [][]byte{bucketFileInline, bucketBlobRefs, bucketMailMeta, bucketMailSearch}

// lastKeys returns each content bucket's last key and whether key is in it.
func lastKeys(t *testing.T, s *Store, key string) (last []string, has []bool) {
	t.Helper()
	s.db.View(func(tx *bolt.Tx) error {
		for _, name := range contentBuckets {
			k, _ := tx.Bucket(name).Cursor().Last()
			last = append(last, string(k))
			has = append(has, tx.Bucket(name).Get([]byte(key)) != nil)
		}
		return nil
	})
	return last, has
}

// Inline mail gets sequenced keys: every delivery lands at the right edge
// of each content tree (behind content-addressed keys already there), the
// recipients of one delivery and a COPY share one copy, the records and
// content survive a reopen, and the last reference takes it all away.
func TestInlineMailKeysGrowAtTheRightEdge(t *testing.T) {
	dir := t.TempDir()
	s := openMailTest(t, dir)
	for _, a := range []string{"anna", "ben", "cara"} {
		mkAccount(t, s, a)
	}
	// Content-addressed content already there: a blob-file message and a
	// small file whose hashes may sort anywhere.
	old := deliver(t, s, "Subject: alt\r\n\r\nalte Nachricht\r\n", "anna")
	if k := messageKey(t, s, old[0].Mailbox, old[0].UID); !validHash(k) {
		t.Fatalf("blob-file message got key %q, want its hash", k)
	}
	pb, err := s.WriteContent(strings.NewReader("zzz"), -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FilePut(HomeTree("cara"), "/f.txt", PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data,
		ModTime: time.Now(), Limits: NoLimits()}); err != nil {
		t.Fatal(err)
	}

	var prev string
	bodies := map[string]string{}
	for i := range 6 {
		body := fmt.Sprintf("Subject: Nr. %d\r\n\r\nHallo %d\r\n", i, i)
		to := []string{"anna", "ben"}
		if i%2 == 1 {
			to = []string{"cara"}
		}
		keys := deliverInline(t, s, body, to...)
		k := keys[0]
		if !isSeqKey(k) || keyHash(k) == k || k <= prev {
			t.Fatalf("delivery %d: key %q after %q, want a growing sequenced key", i, k, prev)
		}
		for _, other := range keys[1:] {
			if other != k {
				t.Fatalf("one delivery, two keys: %q %q", k, other)
			}
		}
		last, has := lastKeys(t, s, k)
		for j, name := range contentBuckets {
			if last[j] != k || !has[j] {
				t.Fatalf("delivery %d: %s ends with %q, want the new key %q", i, name, last[j], k)
			}
		}
		prev, bodies[k] = k, body
	}

	// The same bytes delivered again are stored again, under a new key.
	again := deliverInline(t, s, "Subject: Nr. 0\r\n\r\nHallo 0\r\n", "ben")[0]
	if _, dup := bodies[again]; dup || again <= prev {
		t.Fatalf("redelivery got key %q (last %q)", again, prev)
	}

	// COPY shares the key and counts one more reference.
	inbox := func(acct string) *Mailbox {
		var m *Mailbox
		s.View(func(tx *Tx) error { m, err = tx.MailboxByName(acct, Inbox); return err })
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := messageKey(t, s, inbox("anna").ID, 2)
	res, err := s.CopyMessages(inbox("anna").ID, []uint32{2}, "anna", "Archive", false, nil)
	if err != nil || len(res.Dest) != 1 {
		t.Fatalf("copy: %+v %v", res, err)
	}
	archive := inbox("anna").ID
	s.View(func(tx *Tx) error {
		m, err := tx.MailboxByName("anna", "Archive")
		if err == nil {
			archive = m.ID
		}
		return err
	})
	if k := messageKey(t, s, archive, res.Dest[0]); k != first {
		t.Fatalf("copy has key %q, want %q", k, first)
	}
	refs := func(k string) (n uint64) {
		s.db.View(func(tx *bolt.Tx) error {
			if v := tx.Bucket(bucketBlobRefs).Get([]byte(k)); v != nil {
				n = binary.BigEndian.Uint64(v)
			}
			return nil
		})
		return n
	}
	if n := refs(first); n != 3 {
		t.Fatalf("references of a message to two and its copy: %d, want 3", n)
	}

	rep, err := s.CheckBlobs()
	if err != nil || len(rep.Missing)+len(rep.WrongHash)+len(rep.Undercounted)+len(rep.Overcounted)+len(rep.Orphans) > 0 {
		t.Fatalf("check: %+v %v", rep, err)
	}

	// Reopened: records (codec version 2) and content are still there.
	s.Close()
	s = openMailTest(t, dir)
	defer s.Close()
	for k, body := range bodies {
		r, err := s.OpenContent(k)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		r.Close()
		if !bytes.Equal(got, []byte(body)) {
			t.Fatalf("content of %s: %q, want %q", k, got, body)
		}
	}
	if k := messageKey(t, s, inbox("anna").ID, 2); k != first {
		t.Fatalf("after reopen: key %q, want %q", k, first)
	}

	// The last reference gone, the content is gone from every tree.
	for _, e := range []struct {
		mbox uint64
		uid  uint32
	}{{inbox("anna").ID, 2}, {inbox("ben").ID, 1}, {archive, res.Dest[0]}} {
		if _, err := s.Expunge(e.mbox, []uint32{e.uid}, nil); err != nil {
			t.Fatal(err)
		}
		if e.mbox != archive {
			if _, has := lastKeys(t, s, first); !has[0] {
				t.Fatalf("content gone while referenced")
			}
		}
	}
	if _, has := lastKeys(t, s, first); has[0] || has[1] || has[2] || has[3] {
		t.Fatalf("expunged content still in the trees: %v", has)
	}
	if _, err := s.OpenContent(first); err == nil {
		t.Fatal("expunged content still opens")
	}
}

// A sequenced key names no file: it cannot be opened as one, and keys
// that only look like one are refused.
func TestSeqKeyForms(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	k := seqKey(0x0102, hash)
	if !isSeqKey(k) || keyHash(k) != hash || !validKey(k) || validHash(k) {
		t.Fatalf("seqKey %q: isSeq %v keyHash %q", k, isSeqKey(k), keyHash(k))
	}
	if seqKey(0x0103, hash) <= k || seqKey(0x0101, strings.Repeat("ff", 32)) >= k {
		t.Fatal("sequenced keys do not sort by sequence")
	}
	if strings.Repeat("f", 64) >= k {
		t.Fatal("sequenced keys do not sort after content-addressed ones")
	}
	for _, bad := range []string{"s" + strings.Repeat("0", 79), "s" + strings.Repeat("A", 80),
		"t" + k[1:], k + "0", "s../../../../etc/passwd" + strings.Repeat("0", 57)} {
		if isSeqKey(bad) || validKey(bad) {
			t.Fatalf("%q accepted", bad)
		}
	}
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	if _, err := s.OpenBlob(k); err == nil {
		t.Fatal("a sequenced key opened as a blob file")
	}
}

// Inline mail whose content is gone from the database (damage) is
// reported missing by the check, under its key, not as a blob file.
func TestCheckBlobsFindsMissingInlineMail(t *testing.T) {
	s := openMailTest(t, t.TempDir())
	defer s.Close()
	mkAccount(t, s, "anna")
	k := deliverInline(t, s, "Subject: x\r\n\r\ny\r\n", "anna")[0]
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketFileInline).Delete([]byte(k)) }); err != nil {
		t.Fatal(err)
	}
	rep, err := s.CheckBlobs()
	if err != nil || len(rep.Missing) != 1 || rep.Missing[0] != k || len(rep.WrongHash) > 0 {
		t.Fatalf("check: %+v %v, want %s missing", rep, err, k)
	}
}
