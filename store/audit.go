package store

import (
	"encoding/binary"
	"encoding/json"
	"time"
)

// AuditRecord is one admin action: who did what to whom, and why. Admin
// access to content always leaves one.
type AuditRecord struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`  // admin account or "cli:<os user>"
	Action string    `json:"action"` // e.g. user.lock, user.reset-password
	Target string    `json:"target,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Audit records an admin action inside a transaction, so that the action
// and its trace commit together.
func (t *Tx) Audit(r AuditRecord) error {
	if r.Time.IsZero() {
		r.Time = time.Now().UTC()
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return t.bucket(bucketAudit).Put(t.s.logKey(r.Time), v)
}

// AuditLog returns audit records since a time, oldest first.
func (s *Store) AuditLog(since time.Time) ([]AuditRecord, error) {
	var out []AuditRecord
	err := s.view(func(t *Tx) error {
		c := t.bucket(bucketAudit).Cursor()
		start := binary.BigEndian.AppendUint64(nil, uint64(max(since.UnixNano(), 0)))
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			var r AuditRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
