package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"
)

// Exception lets one account move files larger than SIZE-20MB allows until
// it expires. Reason and the granting admin are kept for the audit.
type Exception struct {
	Account   string    `json:"account"`
	Bytes     int64     `json:"bytes"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

func exceptionKey(account string, created time.Time) []byte {
	k := append([]byte(account), 0)
	return binary.BigEndian.AppendUint64(k, uint64(created.UnixNano()))
}

// AddException stores a size exception for an existing account.
func (s *Store) AddException(x Exception) error {
	return s.update(func(t *Tx) error { return t.AddException(x) })
}

// AddException is Store.AddException inside a transaction.
func (t *Tx) AddException(x Exception) error {
	if _, err := t.Account(x.Account); err != nil {
		return err
	}
	if x.CreatedAt.IsZero() {
		x.CreatedAt = time.Now().UTC()
	}
	v, err := json.Marshal(x)
	if err != nil {
		return err
	}
	t.publish(Event{Kind: AccountChanged, Account: x.Account})
	return t.bucket(bucketExceptions).Put(exceptionKey(x.Account, x.CreatedAt), v)
}

// Exceptions returns an account's exceptions ("" for all accounts),
// including expired ones not yet purged.
func (s *Store) Exceptions(account string) ([]Exception, error) {
	var out []Exception
	err := s.view(func(t *Tx) error {
		c := t.bucket(bucketExceptions).Cursor()
		prefix := []byte(nil)
		if account != "" {
			prefix = append([]byte(account), 0)
		}
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var x Exception
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			out = append(out, x)
		}
		return nil
	})
	return out, err
}

// PurgeExpiredExceptions removes exceptions that ended before now.
func (s *Store) PurgeExpiredExceptions(now time.Time) (int, error) {
	n := 0
	err := s.update(func(t *Tx) error {
		b := t.bucket(bucketExceptions)
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var x Exception
			if json.Unmarshal(v, &x) == nil && !x.Until.After(now) {
				dead = append(dead, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	return n, err
}
