package store

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// auditFixture writes five records into a fresh store and closes it.
func auditFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s := openTest(t, dir)
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	recs := []AuditRecord{
		{Actor: "cli:root", Action: "user.add", Target: "max.mueller", Detail: "role=student groups=5a"},
		{Actor: "cli:root", Action: "user.lock", Target: "max.mueller", Detail: "Verstoß gegen die Nutzungsordnung"},
		{Actor: "erika.muster", Action: "report.read", Target: "report 1", Detail: "room g:5a, message 3, author max.mueller"},
		{Actor: "max.mueller", Action: "export", Target: "max.mueller"},
		{Actor: "cli:root", Action: "user.lock", Target: "lisa.meier", Detail: "anderer Grund"},
	}
	for i, r := range recs {
		r.Time = base.Add(time.Duration(i) * time.Minute)
		if err := s.Update(func(t *Tx) error { return t.Audit(r) }); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.VerifyAudit(); err != nil || v.Bad != nil || v.Entries != 5 {
		t.Fatalf("fresh chain: %+v %v", v, err)
	}
	s.Close()
	return dir
}

// tamperCopy copies the database file to a new data directory and lets fn
// change the copy's audit bucket with bbolt directly, as someone with the
// file would.
func tamperCopy(t *testing.T, dir string, fn func(audit, meta *bolt.Bucket) error) string {
	t.Helper()
	dst := t.TempDir()
	in, err := os.Open(filepath.Join(dir, "schulhof.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dst, "schulhof.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	db, err := bolt.Open(filepath.Join(dst, "schulhof.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketAudit), tx.Bucket(bucketMeta)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return dst
}

func entryAt(t *testing.T, b *bolt.Bucket, seq uint64) auditEntry {
	var e auditEntry
	if err := json.Unmarshal(b.Get(u64(seq)), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func putEntry(b *bolt.Bucket, k uint64, e auditEntry) error {
	v, _ := json.Marshal(e)
	return b.Put(u64(k), v)
}

func verifyDir(t *testing.T, dir string) AuditVerdict {
	t.Helper()
	s := openTest(t, dir)
	defer s.Close()
	v, err := s.VerifyAudit()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Every kind of tampering in a copy of the database is found, and verify
// names the first bad entry.
func TestAuditTamperDetected(t *testing.T) {
	dir := auditFixture(t)
	cases := []struct {
		name    string
		fn      func(a, m *bolt.Bucket) error
		pos     int
		seq     uint64
		problem string
	}{
		{"edit detail", func(a, m *bolt.Bucket) error {
			e := entryAt(t, a, 2)
			e.Detail.Text = "kein Verstoß"
			return putEntry(a, 2, e)
		}, 2, 2, "Detail"},
		{"edit action, digest recomputed by the editor", func(a, m *bolt.Bucket) error {
			e := entryAt(t, a, 2)
			e.Action = "user.unlock"
			return putEntry(a, 2, e)
		}, 2, 2, "Prüfsumme"},
		{"edit and rehash the entry", func(a, m *bolt.Bucket) error {
			e := entryAt(t, a, 2)
			e.Target = seal("lisa.meier")
			e.Hash, _ = e.hash()
			return putEntry(a, 2, e)
		}, 3, 3, "Verkettung"},
		{"delete", func(a, m *bolt.Bucket) error { return a.Delete(u64(3)) }, 3, 4, "Nr. 3 erwartet"},
		{"delete the last", func(a, m *bolt.Bucket) error { return a.Delete(u64(5)) }, 5, 0, "Ende der Kette"},
		{"reorder", func(a, m *bolt.Bucket) error {
			e2, e3 := entryAt(t, a, 2), entryAt(t, a, 3)
			if err := putEntry(a, 2, e3); err != nil {
				return err
			}
			return putEntry(a, 3, e2)
		}, 2, 3, "falschen Stelle"},
		{"reorder with renumbering", func(a, m *bolt.Bucket) error {
			e2, e3 := entryAt(t, a, 2), entryAt(t, a, 3)
			e2.Seq, e3.Seq = 3, 2
			if err := putEntry(a, 2, e3); err != nil {
				return err
			}
			return putEntry(a, 3, e2)
		}, 2, 2, "Verkettung"},
		{"insert", func(a, m *bolt.Bucket) error {
			// A forged entry that links correctly to entry 2 and takes
			// number 3; the old 3 onwards move up one place.
			for k := uint64(5); k >= 3; k-- {
				e := entryAt(t, a, k)
				if err := putEntry(a, k+1, e); err != nil {
					return err
				}
			}
			prev := entryAt(t, a, 2)
			f := auditEntry{Seq: 3, Time: prev.Time.Add(time.Second), Action: "user.unlock",
				Actor: seal("cli:root"), Target: seal("max.mueller"), Detail: seal(""), Prev: prev.Hash}
			f.Hash, _ = f.hash()
			return putEntry(a, 3, f)
		}, 4, 3, "falschen Stelle"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := verifyDir(t, tamperCopy(t, dir, c.fn))
			if v.Bad == nil {
				t.Fatalf("tampering not detected: %+v", v)
			}
			if v.Bad.Position != c.pos || v.Bad.Seq != c.seq || !strings.Contains(v.Bad.Problem, c.problem) {
				t.Fatalf("named %+v, want position %d seq %d (%s)", v.Bad, c.pos, c.seq, c.problem)
			}
		})
	}
	// The original is untouched and still verifies.
	if v := verifyDir(t, dir); v.Bad != nil || v.Entries != 5 {
		t.Fatalf("original: %+v", v)
	}
}

// Erasing a person drops the texts that name them, keeps the chain valid,
// and leaves the name nowhere in the live audit values.
func TestRedactAuditKeepsChain(t *testing.T) {
	dir := auditFixture(t)
	s := openTest(t, dir)
	defer s.Close()
	before, _ := s.VerifyAudit()
	var n int
	if err := s.Update(func(t *Tx) (err error) { n, err = t.RedactAudit("max.mueller"); return }); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("redacted %d entries, want 4", n)
	}
	v, err := s.VerifyAudit()
	if err != nil || v.Bad != nil || v.Entries != 5 || v.Redacted != 4 || v.Head != before.Head {
		t.Fatalf("after redaction: %+v %v (head before %s)", v, err, before.Head)
	}
	recs, _ := s.AuditLog(time.Time{})
	if recs[2].Actor != "erika.muster" || recs[2].Target != "report 1" || recs[2].Detail != "" || !recs[2].Redacted {
		t.Fatalf("report read entry: %+v", recs[2])
	}
	if recs[4].Target != "lisa.meier" || recs[4].Detail != "anderer Grund" || recs[4].Redacted {
		t.Fatalf("someone else's entry changed: %+v", recs[4])
	}
	s.View(func(t *Tx) error {
		return t.bucket(bucketAudit).ForEach(func(k, v []byte) error {
			for _, w := range []string{"max.mueller", "Verstoß", "role=student"} {
				if bytes.Contains(v, []byte(w)) {
					panic("erased text " + w + " still in " + string(v))
				}
			}
			return nil
		})
	})
	// Tampering after redaction is still found.
	s.Close()
	bad := verifyDir(t, tamperCopy(t, dir, func(a, m *bolt.Bucket) error {
		e := entryAt(t, a, 1)
		e.Action = "user.unlock"
		return putEntry(a, 1, e)
	}))
	if bad.Bad == nil || bad.Bad.Seq != 1 {
		t.Fatalf("tampering a redacted entry: %+v", bad)
	}
}

func TestMentions(t *testing.T) {
	for text, want := range map[string]bool{
		"max.mueller": true, "author max.mueller": true, "max.mueller@schule.de": true,
		"a,max.mueller,b": true, "max.mueller.": true, "max.mueller2": false, "xmax.mueller": false,
		"max.mueller-x": false, "": false, "max.muelle": false, "max.mueller2,max.mueller": true,
	} {
		if got := mentions(text, "max.mueller"); got != want {
			t.Errorf("mentions(%q) = %v", text, got)
		}
	}
}

// A schema 2 database (audit records keyed by time) opens as schema 3 with
// the same records in one valid chain.
func TestAuditMigrationBuildsChain(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	db := s.db
	base := time.Date(2025, 9, 1, 7, 0, 0, 0, time.UTC)
	err := db.Update(func(tx *bolt.Tx) error {
		tx.DeleteBucket(bucketAudit)
		b, _ := tx.CreateBucket(bucketAudit)
		tx.Bucket(bucketMeta).Delete(auditHeadKey)
		for i, act := range []string{"user.add", "user.lock", "user.unlock"} {
			at := base.Add(time.Duration(i) * time.Hour)
			k := append(u64(uint64(at.UnixNano())), u64(uint64(i))...)
			v, _ := json.Marshal(map[string]any{"time": at, "actor": "cli:root", "action": act, "target": "max.mueller"})
			if err := b.Put(k, v); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put([]byte("schema"), u64(2))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, dir)
	defer s.Close()
	if v, _ := s.Schema(); v != SchemaVersion {
		t.Fatalf("schema %d", v)
	}
	v, err := s.VerifyAudit()
	if err != nil || v.Bad != nil || v.Entries != 3 {
		t.Fatalf("migrated chain: %+v %v", v, err)
	}
	recs, _ := s.AuditLog(time.Time{})
	if len(recs) != 3 || recs[1].Action != "user.lock" || recs[1].Target != "max.mueller" || !recs[1].Time.Equal(base.Add(time.Hour)) || recs[1].Seq != 2 {
		t.Fatalf("migrated records %+v", recs)
	}
	// New entries continue the chain.
	if err := s.Update(func(t *Tx) error {
		return t.Audit(AuditRecord{Actor: "cli:root", Action: "user.delete", Target: "max.mueller"})
	}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.VerifyAudit(); v.Bad != nil || v.Entries != 4 {
		t.Fatalf("after append: %+v", v)
	}
}

// Erasure through the privacy registry (provider "audit") keeps the chain
// valid: the entries about the person lose their texts, the erasure's own
// entry names the person, and verify passes.
func TestEraseKeepsAuditChain(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	mkAccount(t, s, "paula.p")
	mkAccount(t, s, "carl.c")
	for _, r := range []AuditRecord{
		{Actor: "cli:root", Action: "user.lock", Target: "paula.p", Detail: "Grund-für-Paula"},
		{Actor: "cli:root", Action: "group.member.add", Target: "5a", Detail: "carl.c,paula.p"},
		{Actor: "cli:root", Action: "user.lock", Target: "carl.c", Detail: "Grund-für-Carl"},
	} {
		if err := s.Update(func(t *Tx) error { return t.Audit(r) }); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.EraseAccountBy("cli:root", "paula.p", ErasePlatform)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Items["audit"] != 2 {
		t.Fatalf("audit entries redacted: %s", rep.Summary())
	}
	v, err := s.VerifyAudit()
	if err != nil || v.Bad != nil || v.Redacted != 2 {
		t.Fatalf("verify after erasure: %+v %v", v, err)
	}
	recs, _ := s.AuditLog(time.Time{})
	last := recs[len(recs)-1]
	if last.Action != ActionErase || last.Target != "paula.p" {
		t.Fatalf("erasure entry %+v", last)
	}
	s.View(func(t *Tx) error {
		return t.bucket(bucketAudit).ForEach(func(k, v []byte) error {
			if bytes.Contains(v, []byte("Grund-für-Paula")) || (bytes.Contains(v, []byte("paula.p")) && !bytes.Contains(v, []byte(ActionErase))) {
				panic("erased person still in " + string(v))
			}
			return nil
		})
	})
	if recs[2].Detail != "Grund-für-Carl" {
		t.Fatalf("another person's entry changed: %+v", recs[2])
	}
	// On disk too: the redacted texts are not in the file's freed pages.
	if found := leftovers(t, dir, []string{"Grund-für-Paula", "carl.c,paula.p"}); len(found) > 0 {
		t.Fatalf("redacted audit text readable on disk: %v", found)
	}
	if found := leftovers(t, dir, []string{"Grund-für-Carl"}); len(found) == 0 {
		t.Fatal("the scan does not find what stays")
	}
}

// BenchmarkAuditVerify: verifying a chain of 10,000 entries.
//
//	go test -run '^$' -bench 'BenchmarkAudit' -benchtime 5x ./store
func BenchmarkAuditVerify(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	for i := 0; i < 10; i++ {
		s.Update(func(t *Tx) error {
			for j := 0; j < 1000; j++ {
				if err := t.Audit(AuditRecord{Actor: "cli:root", Action: "user.lock", Target: "max.mueller", Detail: "Verstoß gegen die Nutzungsordnung"}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if v, err := s.VerifyAudit(); err != nil || v.Bad != nil || v.Entries != 10000 {
			b.Fatalf("%+v %v", v, err)
		}
	}
}

// BenchmarkAuditAppend: one audited action in its own transaction.
func BenchmarkAuditAppend(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Update(func(t *Tx) error {
			return t.Audit(AuditRecord{Actor: "cli:root", Action: "user.lock", Target: "max.mueller", Detail: "Verstoß"})
		}); err != nil {
			b.Fatal(err)
		}
	}
}
