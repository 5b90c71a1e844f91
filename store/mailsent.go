package store

// Sent mail counter (MAIL-MASS messages per hour). Every message an account
// with a limit delivers is recorded in the delivering transaction:
//
//	mailsent   account 0x00 time (8 bytes BE unix nanos) seq (8 bytes BE)
//	           → empty: one key per message sent, kept for the window
//
// A sender first reserves a slot with ReserveSend: the check ("fewer than
// max in the window, reserved slots included") and the reservation are one
// step under one lock, so parallel sessions cannot all pass the check
// before any of them is counted. The count survives a restart because it
// is read back from the bucket; reservations of sessions that did not
// deliver are released and never written.

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sync"
	"time"
)

var bucketMailSent = []byte("mailsent")

func init() {
	buckets = append(buckets, bucketMailSent)
}

// sendCounter is the in-memory view of mailsent, loaded per account on
// first use, plus the reservations not yet delivered.
type sendCounter struct {
	mu       sync.Mutex
	accounts map[string]*sendLog
}

type sendLog struct {
	sent    []time.Time // recorded deliveries, oldest first
	pending int         // reserved slots not yet recorded or released
}

// SendSlot is one message reserved from an account's budget. Pass it in
// Delivery.Sent so the delivery records it; Release it in every case once
// the delivery committed or failed.
type SendSlot struct {
	s        *Store
	account  string
	window   time.Duration
	at       time.Time
	recorded bool
	done     bool
}

// ReserveSend reserves one message of at most max that account may send in
// the window before now. It returns the number already sent or reserved in
// the window; with ok false nothing was reserved. max <= 0 means no limit:
// nothing is counted and the slot is nil.
func (s *Store) ReserveSend(account string, now time.Time, window time.Duration, max int) (slot *SendSlot, used int, ok bool, err error) {
	if max <= 0 {
		return nil, 0, true, nil
	}
	c := &s.sends
	c.mu.Lock()
	defer c.mu.Unlock()
	l, err := s.sendLogLocked(account)
	if err != nil {
		return nil, 0, false, err
	}
	l.prune(now.Add(-window))
	used = len(l.sent) + l.pending
	if used >= max {
		return nil, used, false, nil
	}
	l.pending++
	return &SendSlot{s: s, account: account, window: window, at: now}, used, true, nil
}

// sendLogLocked returns the account's log, read from the bucket the first
// time (c.mu held).
func (s *Store) sendLogLocked(account string) (*sendLog, error) {
	c := &s.sends
	if l := c.accounts[account]; l != nil {
		return l, nil
	}
	l := &sendLog{}
	err := s.view(func(t *Tx) error {
		prefix := []byte(account + "\x00")
		cur := t.bucket(bucketMailSent).Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if len(k) == len(prefix)+16 {
				l.sent = append(l.sent, time.Unix(0, int64(binary.BigEndian.Uint64(k[len(prefix):]))))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.accounts == nil {
		c.accounts = map[string]*sendLog{}
	}
	c.accounts[account] = l
	return l, nil
}

func (l *sendLog) prune(cut time.Time) {
	i := 0
	for i < len(l.sent) && !l.sent[i].After(cut) {
		i++
	}
	l.sent = l.sent[i:]
}

// Release ends the reservation: a recorded slot is now counted from its
// record, any other is given back.
func (sl *SendSlot) Release() {
	if sl == nil || sl.done {
		return
	}
	sl.done = true
	c := &sl.s.sends
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.accounts[sl.account]
	if l == nil {
		return
	}
	l.pending--
	if sl.recorded {
		i, _ := slices.BinarySearchFunc(l.sent, sl.at, time.Time.Compare)
		l.sent = slices.Insert(l.sent, i, sl.at)
	}
}

// recordSent writes the slot's record in t and drops the account's
// records that left the window.
func (t *Tx) recordSent(sl *SendSlot) error {
	if err := t.deleteSent(sl.account, sl.at.Add(-sl.window)); err != nil {
		return err
	}
	k := make([]byte, 0, len(sl.account)+17)
	k = append(append(k, sl.account...), 0)
	k = binary.BigEndian.AppendUint64(k, uint64(sl.at.UnixNano()))
	k = append(k, t.s.logKey(sl.at)[8:]...) // unique within the process
	return t.bucket(bucketMailSent).Put(k, nil)
}

// deleteSent removes the account's records up to and including cut.
func (t *Tx) deleteSent(account string, cut time.Time) error {
	prefix := []byte(account + "\x00")
	c := t.bucket(bucketMailSent).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if len(k) == len(prefix)+16 && int64(binary.BigEndian.Uint64(k[len(prefix):])) > cut.UnixNano() {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
