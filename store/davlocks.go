package store

import (
	"bytes"
	"encoding/json"
	"time"
)

// davlocks: account 0x00 token → DavLock. davd keeps its lock table in
// memory and writes each change here, so a restart keeps the locks that
// have not expired.
var bucketDavLocks = []byte("davlocks")

func init() {
	buckets = append(buckets, bucketDavLocks)
}

// DavLock is one WebDAV lock as davd took it (davd/locks.go explains the
// fields). Owner is the client's <owner> XML, bounded by davd.
type DavLock struct {
	Token     string        `json:"token"`
	Account   string        `json:"account"`
	Role      string        `json:"role"`
	Tree      string        `json:"tree"`
	Root      string        `json:"root"`
	Href      string        `json:"href"`
	ZeroDepth bool          `json:"zero_depth,omitempty"`
	Shared    bool          `json:"shared,omitempty"`
	Owner     string        `json:"owner,omitempty"`
	Timeout   time.Duration `json:"timeout"`
	Expires   time.Time     `json:"expires"`
}

func davLockKey(account, token string) []byte {
	return append(append([]byte(account), 0), token...)
}

// PutDavLock stores a new or refreshed lock.
func (s *Store) PutDavLock(l DavLock) error {
	v, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return s.batch(func(t *Tx) error { return t.bucket(bucketDavLocks).Put(davLockKey(l.Account, l.Token), v) })
}

// DeleteDavLock removes one lock; a lock not there is no error.
func (s *Store) DeleteDavLock(account, token string) error {
	return s.batch(func(t *Tx) error { return t.bucket(bucketDavLocks).Delete(davLockKey(account, token)) })
}

// DavLocks returns the locks that have not expired at now.
func (s *Store) DavLocks(now time.Time) ([]DavLock, error) {
	var out []DavLock
	err := s.view(func(t *Tx) error {
		return t.bucket(bucketDavLocks).ForEach(func(k, v []byte) error {
			var l DavLock
			if err := json.Unmarshal(v, &l); err != nil {
				return err
			}
			if now.Before(l.Expires) {
				out = append(out, l)
			}
			return nil
		})
	})
	return out, err
}

// PurgeDavLocks removes the locks that expired before now.
func (s *Store) PurgeDavLocks(now time.Time) error {
	return s.update(func(t *Tx) error {
		b := t.bucket(bucketDavLocks)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var l DavLock
			if json.Unmarshal(v, &l) != nil || !now.Before(l.Expires) {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range old {
			if err == nil {
				err = b.Delete(k)
			}
		}
		return err
	})
}
