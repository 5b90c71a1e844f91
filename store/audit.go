package store

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The audit log is a hash chain: every entry carries the hash of the one
// before it, and meta "audit.head" holds the last entry's number and hash,
// so an entry altered, inserted, removed or moved breaks the chain at that
// entry (VerifyAudit names the first one).
//
// The personal parts of an entry (actor, target, detail) are not hashed as
// plain text: each is committed as SHA-256(salt || text) with a random
// per-entry salt kept beside the text. Erasing a person (RedactAudit)
// drops text and salt and keeps the digest, so the chain still verifies and
// nobody can try names against the digest without the salt.
//
//	audit  entry number (8 bytes BE, from 1) → auditEntry (JSON)
//	meta   "audit.head" → number (8 bytes BE) hash (32 bytes)

// AuditRecord is one admin or auditor action: who did what to whom, and
// why. Admin access to content always leaves one. Callers fill Actor,
// Action, Target, Detail (and Time, defaulting to now); the log fills Seq,
// Hash and Redacted when it reads records back.
type AuditRecord struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // admin account or "cli:<os user>"
	Action string    `json:"action"` // e.g. user.lock, user.reset-password
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`

	Seq      uint64 `json:"seq,omitempty"`      // position in the chain, from 1
	Hash     string `json:"hash,omitempty"`     // hex SHA-256 of the entry
	Redacted bool   `json:"redacted,omitempty"` // a part was erased with its person
}

// auditEntry is the stored form of one record.
type auditEntry struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Actor  sealed    `json:"actor"`
	Target sealed    `json:"target"`
	Detail sealed    `json:"detail"`
	Prev   string    `json:"prev"` // hex hash of the entry before (zeros for the first)
	Hash   string    `json:"hash"`
}

// sealed is a personal text with the salted digest the chain hashes.
// Erasure clears Text and Salt; Digest stays.
type sealed struct {
	Digest string `json:"d"`
	Salt   []byte `json:"s,omitempty"`
	Text   string `json:"t,omitempty"`
}

func seal(text string) sealed {
	salt := make([]byte, 16)
	rand.Read(salt)
	return sealed{Digest: hex.EncodeToString(sealDigest(salt, text)), Salt: salt, Text: text}
}

func sealDigest(salt []byte, text string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(text))
	return h.Sum(nil)
}

// erased says the text and salt were dropped.
func (s sealed) erased() bool { return s.Salt == nil }

// intact says the text still matches its digest (true once erased: there
// is nothing left to compare).
func (s sealed) intact() bool {
	if s.erased() {
		return s.Text == ""
	}
	d, err := hex.DecodeString(s.Digest)
	return err == nil && subtle.ConstantTimeCompare(d, sealDigest(s.Salt, s.Text)) == 1
}

const auditHashDomain = "schulhof audit v1\x00"

var auditHeadKey = []byte("audit.head")

// hash computes the entry's chain hash from its non-personal fields, the
// digests of the personal ones and the previous hash.
func (e *auditEntry) hash() (string, error) {
	var b bytes.Buffer
	b.WriteString(auditHashDomain)
	b.Write(u64(e.Seq))
	b.Write(u64(uint64(e.Time.UnixNano())))
	b.Write(u64(uint64(len(e.Action))))
	b.WriteString(e.Action)
	for _, h := range []string{e.Actor.Digest, e.Target.Digest, e.Detail.Digest, e.Prev} {
		raw, err := hex.DecodeString(h)
		if err != nil || len(raw) != sha256.Size {
			return "", fmt.Errorf("bad digest %q", h)
		}
		b.Write(raw)
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

var zeroHash = strings.Repeat("0", 2*sha256.Size)

// auditHead reads the chain's last number and hash.
func auditHead(meta *bolt.Bucket) (uint64, string) {
	raw := meta.Get(auditHeadKey)
	if len(raw) != 8+sha256.Size {
		return 0, zeroHash
	}
	return binary.BigEndian.Uint64(raw), hex.EncodeToString(raw[8:])
}

// appendAudit adds one record at the end of the chain. It works on bbolt
// buckets so the schema migration uses the same code.
func appendAudit(audit, meta *bolt.Bucket, r AuditRecord) (AuditRecord, error) {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	seq, prev := auditHead(meta)
	e := auditEntry{Seq: seq + 1, Time: r.Time, Action: r.Action,
		Actor: seal(r.Actor), Target: seal(r.Target), Detail: seal(r.Detail), Prev: prev}
	h, err := e.hash()
	if err != nil {
		return r, err
	}
	e.Hash = h
	v, err := json.Marshal(e)
	if err != nil {
		return r, err
	}
	if err := audit.Put(u64(e.Seq), v); err != nil {
		return r, err
	}
	raw, _ := hex.DecodeString(h)
	if err := meta.Put(auditHeadKey, append(u64(e.Seq), raw...)); err != nil {
		return r, err
	}
	r.Seq, r.Hash = e.Seq, e.Hash
	return r, nil
}

// Audit records an admin action inside a transaction, so that the action
// and its trace commit together.
func (t *Tx) Audit(r AuditRecord) error {
	_, err := appendAudit(t.bucket(bucketAudit), t.bucket(bucketMeta), r)
	return err
}

func (e *auditEntry) record() AuditRecord {
	return AuditRecord{Time: e.Time, Actor: e.Actor.Text, Action: e.Action, Target: e.Target.Text, Detail: e.Detail.Text,
		Seq: e.Seq, Hash: e.Hash, Redacted: e.Actor.erased() || e.Target.erased() || e.Detail.erased()}
}

// decodeAuditRecord reads one stored entry as a record (erased parts
// empty): code that scans the audit bucket itself (export) uses it, since
// the stored form is not an AuditRecord.
func decodeAuditRecord(v []byte) (AuditRecord, error) {
	var e auditEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return AuditRecord{}, err
	}
	return e.record(), nil
}

// AuditLog returns audit records since a time, in chain order (oldest
// first). Erased parts are empty, with Redacted set.
func (s *Store) AuditLog(since time.Time) ([]AuditRecord, error) {
	var out []AuditRecord
	err := s.view(func(t *Tx) error {
		return t.bucket(bucketAudit).ForEach(func(k, v []byte) error {
			r, err := decodeAuditRecord(v)
			if err != nil {
				return fmt.Errorf("audit entry %x: %w", k, err)
			}
			if !r.Time.Before(since) {
				out = append(out, r)
			}
			return nil
		})
	})
	return out, err
}

// AuditProblem is the first place where the chain does not hold.
type AuditProblem struct {
	Position int       // 1-based position in the bucket (key order)
	Seq      uint64    // the number the entry claims (0 if unreadable)
	Time     time.Time // as the entry claims
	Action   string
	Problem  string // German, for the admin
}

// AuditVerdict is the result of VerifyAudit.
type AuditVerdict struct {
	Entries  int
	Head     string // hash of the last entry (worth noting down outside the server)
	Redacted int    // entries with an erased part (they verify by digest)
	Bad      *AuditProblem
}

// VerifyAudit walks the chain and checks every link, every hash and every
// personal text against its digest. It returns the first bad entry, if
// any; an error only when the database cannot be read.
func (s *Store) VerifyAudit() (AuditVerdict, error) {
	var v AuditVerdict
	err := s.view(func(t *Tx) error {
		v = verifyAudit(t.bucket(bucketAudit), t.bucket(bucketMeta))
		return nil
	})
	return v, err
}

func verifyAudit(audit, meta *bolt.Bucket) AuditVerdict {
	var v AuditVerdict
	prev, want := zeroHash, uint64(1)
	pos := 0
	bad := func(e *auditEntry, format string, args ...any) AuditVerdict {
		v.Bad = &AuditProblem{Position: pos, Problem: fmt.Sprintf(format, args...)}
		if e != nil {
			v.Bad.Seq, v.Bad.Time, v.Bad.Action = e.Seq, e.Time, e.Action
		}
		return v
	}
	c := audit.Cursor()
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		pos++
		var e auditEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return bad(nil, "Eintrag nicht lesbar: %v", err)
		}
		if len(k) != 8 || binary.BigEndian.Uint64(k) != e.Seq {
			return bad(&e, "steht an der falschen Stelle (Schlüssel %x, Eintrag Nr. %d): eingefügt oder verschoben", k, e.Seq)
		}
		if e.Seq != want {
			return bad(&e, "Nr. %d erwartet, Nr. %d gefunden: Eintrag davor entfernt, eingefügt oder umgestellt", want, e.Seq)
		}
		if e.Prev != prev {
			return bad(&e, "Verkettung gebrochen: der Vorgänger wurde verändert, entfernt oder umgestellt")
		}
		for _, f := range []struct {
			name string
			s    sealed
		}{{"Handelnde/r", e.Actor}, {"Ziel", e.Target}, {"Detail", e.Detail}} {
			if !f.s.intact() {
				return bad(&e, "Feld %s wurde verändert (passt nicht zu seinem Prüfwert)", f.name)
			}
		}
		h, err := e.hash()
		if err != nil || h != e.Hash {
			return bad(&e, "Inhalt verändert (Prüfsumme stimmt nicht)")
		}
		if e.Actor.erased() || e.Target.erased() || e.Detail.erased() {
			v.Redacted++
		}
		prev, want = e.Hash, e.Seq+1
		v.Entries++
	}
	v.Head = prev
	headSeq, headHash := auditHead(meta)
	if headSeq != want-1 || headHash != prev {
		pos++
		return bad(nil, "das Ende der Kette fehlt: erwartet bis Nr. %d (%s…), vorhanden bis Nr. %d — Einträge am Ende entfernt",
			headSeq, headHash[:12], want-1)
	}
	return v
}

// RedactAudit erases one person from the audit log: in every entry that
// names the account, the parts naming it lose their text and salt (an
// entry about the person loses target and detail, one the person did
// loses its actor). The digests stay, so VerifyAudit still passes. The
// record of the erasure itself (ActionErase) keeps the name. It returns
// the number of entries changed. Erasure runs it in chunks through the
// privacy provider "audit" (privacy_audit.go).
func (t *Tx) RedactAudit(account string) (int, error) {
	b := t.bucket(bucketAudit)
	type change struct{ k, v []byte }
	var changes []change
	err := b.ForEach(func(k, raw []byte) error {
		nv, err := redactAuditValue(raw, account)
		if nv != nil {
			changes = append(changes, change{append([]byte(nil), k...), nv})
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, c := range changes {
		if err := b.Put(c.k, c.v); err != nil {
			return 0, err
		}
	}
	return len(changes), nil
}

// redactAuditValue returns the entry with the account's parts erased, or
// nil when the entry does not name the account.
func redactAuditValue(raw []byte, account string) ([]byte, error) {
	if account == "" {
		return nil, nil
	}
	var e auditEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("audit entry: %w", err)
	}
	if e.Action == ActionErase {
		return nil, nil
	}
	changed := false
	drop := func(s *sealed) {
		if !s.erased() {
			s.Text, s.Salt, changed = "", nil, true
		}
	}
	if mentions(e.Actor.Text, account) {
		drop(&e.Actor)
	}
	if mentions(e.Target.Text, account) {
		drop(&e.Target)
		drop(&e.Detail)
	}
	if mentions(e.Detail.Text, account) {
		drop(&e.Detail)
	}
	if !changed {
		return nil, nil
	}
	return json.Marshal(e)
}

// Mentions reports whether text names the account as a whole word (the
// audit list's --person filter uses the rule of erasure).
func Mentions(text, account string) bool { return mentions(text, account) }

// mentions reports whether text names the account as a whole word:
// "max.mueller" is in "author max.mueller" and "max.mueller@schule.de",
// not in "max.mueller2" (nameByte: privacy.go).
func mentions(text, account string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], account)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(account)
		if (start == 0 || !nameByte(text[start-1])) && (end == len(text) || !nameByte(text[end]) || text[end] == '.' && (end+1 == len(text) || !nameByte(text[end+1]))) {
			return true
		}
		i = start + 1
	}
}

// migrateAuditChain (schema 2→3) puts the records of the old time-keyed
// audit log into the chain, oldest first.
func migrateAuditChain(tx *bolt.Tx) error {
	old := tx.Bucket(bucketAudit)
	var recs []AuditRecord
	if old != nil {
		if err := old.ForEach(func(k, v []byte) error {
			var r AuditRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("audit record %x: %w", k, err)
			}
			recs = append(recs, r)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketAudit); err != nil {
			return err
		}
	}
	audit, err := tx.CreateBucket(bucketAudit)
	if err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	if err := meta.Delete(auditHeadKey); err != nil {
		return err
	}
	for _, r := range recs {
		if _, err := appendAudit(audit, meta, r); err != nil {
			return err
		}
	}
	return nil
}

func init() { registerMigration(2, migrateAuditChain) }
