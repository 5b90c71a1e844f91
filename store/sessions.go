package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Web sessions of the portal. The cookie carries a random 256-bit ID; the
// store keeps only its SHA-256, so a copy of the database opens no
// session.
//
//	websessions      sha256(id) hex → WebSession
//	websessionsacct  account 0x00 sha256(id) hex → "" (index: sessions per account)

var (
	bucketWebSessions    = []byte("websessions")
	bucketWebSessionAcct = []byte("websessionsacct")
)

// SessionsEnded is published when sessions of an account end (logout
// everywhere, password change, lock): WebSockets of the account re-check.
const SessionsEnded EventKind = "sessions.ended"

func init() {
	buckets = append(buckets, bucketWebSessions, bucketWebSessionAcct)
}

// WebSession is one logged-in browser.
type WebSession struct {
	Key        string    `json:"key"` // sha256 of the ID, hex
	Account    string    `json:"account"`
	CSRF       string    `json:"csrf"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent,omitempty"`
	MustChange bool      `json:"must_change,omitempty"` // only the password change is allowed
	// Fingerprint of the password hash the session was opened with: a
	// password change ends it.
	Fingerprint string `json:"fingerprint"`
}

// SessionKey is what the store keeps of a session ID.
func SessionKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

func acctSessionKey(account, key string) []byte { return []byte(account + "\x00" + key) }

// CreateSession stores a new session under the key of id. Concurrent
// logins share one fsync (Batch).
func (s *Store) CreateSession(id string, ws WebSession) error {
	ws.Key = SessionKey(id)
	return s.batch(func(t *Tx) error {
		v, err := json.Marshal(ws)
		if err != nil {
			return err
		}
		if err := t.bucket(bucketWebSessions).Put([]byte(ws.Key), v); err != nil {
			return err
		}
		return t.bucket(bucketWebSessionAcct).Put(acctSessionKey(ws.Account, ws.Key), nil)
	})
}

// Session returns the session of a cookie ID.
func (s *Store) Session(id string) (*WebSession, error) {
	return s.SessionByKey(SessionKey(id))
}

// SessionByKey returns a session by its stored key.
func (s *Store) SessionByKey(key string) (*WebSession, error) {
	var ws WebSession
	err := s.view(func(t *Tx) error {
		v := t.bucket(bucketWebSessions).Get([]byte(key))
		if v == nil {
			return fmt.Errorf("session: %w", ErrNotFound)
		}
		return json.Unmarshal(v, &ws)
	})
	if err != nil {
		return nil, err
	}
	return &ws, nil
}

// TouchSession sets a session's last use.
func (s *Store) TouchSession(key string, at time.Time) error {
	return s.update(func(t *Tx) error {
		v := t.bucket(bucketWebSessions).Get([]byte(key))
		if v == nil {
			return fmt.Errorf("session: %w", ErrNotFound)
		}
		var ws WebSession
		if err := json.Unmarshal(v, &ws); err != nil {
			return err
		}
		ws.LastSeen = at
		nv, _ := json.Marshal(ws)
		return t.bucket(bucketWebSessions).Put([]byte(key), nv)
	})
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(key string) error {
	return s.update(func(t *Tx) error {
		v := t.bucket(bucketWebSessions).Get([]byte(key))
		if v == nil {
			return nil
		}
		var ws WebSession
		if err := json.Unmarshal(v, &ws); err != nil {
			return err
		}
		t.publish(Event{Kind: SessionsEnded, Account: ws.Account})
		if err := t.bucket(bucketWebSessionAcct).Delete(acctSessionKey(ws.Account, key)); err != nil {
			return err
		}
		return t.bucket(bucketWebSessions).Delete([]byte(key))
	})
}

// SessionsOf lists an account's sessions.
func (s *Store) SessionsOf(account string) ([]WebSession, error) {
	var out []WebSession
	err := s.view(func(t *Tx) error {
		prefix := []byte(account + "\x00")
		c := t.bucket(bucketWebSessionAcct).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			v := t.bucket(bucketWebSessions).Get(k[len(prefix):])
			if v == nil {
				continue
			}
			var ws WebSession
			if err := json.Unmarshal(v, &ws); err != nil {
				return err
			}
			out = append(out, ws)
		}
		return nil
	})
	return out, err
}

// DeleteSessionsOf ends every session of an account except the one with
// key keep ("" ends all) and returns how many ended.
func (s *Store) DeleteSessionsOf(account, keep string) (int, error) {
	n := 0
	err := s.update(func(t *Tx) error {
		var err error
		n, err = t.DeleteSessionsOf(account, keep)
		return err
	})
	return n, err
}

// DeleteSessionsOf is Store.DeleteSessionsOf inside a transaction.
func (t *Tx) DeleteSessionsOf(account, keep string) (int, error) {
	prefix := []byte(account + "\x00")
	var keys [][]byte
	c := t.bucket(bucketWebSessionAcct).Cursor()
	for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
		if string(k[len(prefix):]) != keep {
			keys = append(keys, append([]byte(nil), k...))
		}
	}
	for _, k := range keys {
		if err := t.bucket(bucketWebSessions).Delete(k[len(prefix):]); err != nil {
			return 0, err
		}
		if err := t.bucket(bucketWebSessionAcct).Delete(k); err != nil {
			return 0, err
		}
	}
	t.publish(Event{Kind: SessionsEnded, Account: account})
	return len(keys), nil
}

// PurgeSessions removes sessions for which expired returns true.
func (s *Store) PurgeSessions(expired func(WebSession) bool) (int, error) {
	n := 0
	err := s.update(func(t *Tx) error {
		var dead []WebSession
		err := t.bucket(bucketWebSessions).ForEach(func(k, v []byte) error {
			var ws WebSession
			if json.Unmarshal(v, &ws) == nil && expired(ws) {
				dead = append(dead, ws)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, ws := range dead {
			t.bucket(bucketWebSessions).Delete([]byte(ws.Key))
			t.bucket(bucketWebSessionAcct).Delete(acctSessionKey(ws.Account, ws.Key))
		}
		n = len(dead)
		return nil
	})
	return n, err
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }
