package store

import (
	"encoding/binary"
	"encoding/json"
	"time"
)

// LoginRecord is one login attempt, as the Nutzungsordnung promises to
// record it: account name tried, protocol, IP address, time, result.
type LoginRecord struct {
	Time     time.Time `json:"time"`
	Account  string    `json:"account"` // as typed by the client (bounded in length)
	Protocol string    `json:"protocol"`
	IP       string    `json:"ip"`
	OK       bool      `json:"ok"`
	Rule     string    `json:"rule,omitempty"` // why it was refused
}

// RecordLogins appends attempts to the login log in one transaction and,
// for those that succeeded, sets the account's last login time and address.
func (s *Store) RecordLogins(recs []LoginRecord) error {
	type keyed struct {
		key, val []byte
		r        LoginRecord
	}
	items := make([]keyed, 0, len(recs))
	for _, r := range recs {
		if len(r.Account) > 128 {
			r.Account = r.Account[:128]
		}
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		items = append(items, keyed{s.logKey(r.Time), v, r})
	}
	return s.batch(func(t *Tx) error {
		for _, it := range items {
			if err := t.bucket(bucketLoginLog).Put(it.key, it.val); err != nil {
				return err
			}
			if !it.r.OK {
				continue
			}
			a, err := t.Account(it.r.Account)
			if err != nil {
				continue // deleted meanwhile: the attempt is still logged
			}
			a.LastLoginAt, a.LastLoginIP = it.r.Time, it.r.IP
			if err := t.putAccount(a); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecordLogin appends one attempt; see RecordLogins.
func (s *Store) RecordLogin(r LoginRecord) error { return s.RecordLogins([]LoginRecord{r}) }

// LoginLog returns the attempts since a time, oldest first, optionally for
// one account name only.
func (s *Store) LoginLog(account string, since time.Time) ([]LoginRecord, error) {
	var out []LoginRecord
	err := s.view(func(t *Tx) error {
		c := t.bucket(bucketLoginLog).Cursor()
		start := binary.BigEndian.AppendUint64(nil, uint64(max(since.UnixNano(), 0)))
		for k, v := c.Seek(start); k != nil; k, v = c.Next() {
			var r LoginRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if account == "" || r.Account == account {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}

// PurgeLog removes log records older than before from a log bucket and
// returns how many. Keys start with the time, so this walks only old ones.
func (s *Store) purgeLog(bucket []byte, before time.Time) (int, error) {
	n := 0
	end := binary.BigEndian.AppendUint64(nil, uint64(max(before.UnixNano(), 0)))
	for {
		// Delete in chunks so one purge never holds the writer lock long.
		done := 0
		err := s.update(func(t *Tx) error {
			b := t.bucket(bucket)
			c := b.Cursor()
			for k, _ := c.First(); k != nil && string(k[:8]) < string(end) && done < 5000; k, _ = c.First() {
				if err := b.Delete(k); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		n += done
		if err != nil || done < 5000 {
			return n, err
		}
	}
}

// PurgeLoginLog removes login records older than before (the retention).
func (s *Store) PurgeLoginLog(before time.Time) (int, error) {
	return s.purgeLog(bucketLoginLog, before)
}
