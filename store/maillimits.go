package store

// Bounds on what a mail client may create: distinct keywords per mailbox,
// keyword length, mailboxes per account, mailbox name length. The numbers
// come from the caller (imapd reads them from policy's bound table); the
// store checks them inside the write transaction, so concurrent sessions
// cannot pass a bound together.
//
// Bucket:
//
//	mailkeywords  mailbox ID (8) lower-case keyword → the keyword as first
//	              stored: every keyword ever set in the mailbox (kept when
//	              no message carries it any more, as Dovecot does)
//
// Mailboxes created before this index existed are indexed from their
// messages on their first write (Mailbox.KeywordIndex).

import (
	"bytes"
	"slices"
	"strings"
	"sync"
)

var bucketMailKeywords = []byte("mailkeywords")

func init() { buckets = append(buckets, bucketMailKeywords) }

// MailLimits are the bounds in force; 0 means unbounded.
type MailLimits struct {
	KeywordsPerMailbox  int64
	KeywordBytes        int64
	MailboxesPerAccount int64
	MailboxNameBytes    int64
}

// The mail bounds a LimitError (files.go) can name.
const (
	LimitKeywordsPerMailbox  Limit = "keywords per mailbox"
	LimitKeywordBytes        Limit = "keyword bytes"
	LimitMailboxesPerAccount Limit = "mailboxes per account"
	LimitMailboxNameBytes    Limit = "mailbox name bytes"
)

type mailLimitsBox struct {
	mu sync.RWMutex
	l  MailLimits
}

// SetMailLimits sets the bounds checked from now on.
func (s *Store) SetMailLimits(l MailLimits) {
	s.mailLimits.mu.Lock()
	s.mailLimits.l = l
	s.mailLimits.mu.Unlock()
}

func (t *Tx) limits() MailLimits {
	t.s.mailLimits.mu.RLock()
	defer t.s.mailLimits.mu.RUnlock()
	return t.s.mailLimits.l
}

func isKeyword(flag string) bool { return !strings.HasPrefix(flag, `\`) }

func keywordKey(mbox uint64, kw string) []byte {
	return append(mboxKey(mbox), strings.ToLower(kw)...)
}

// Keywords lists every keyword used in a mailbox (sorted case-insensitively,
// in the spelling first stored), also those no message carries now.
func (t *Tx) Keywords(mbox uint64) ([]string, error) {
	m, err := t.Mailbox(mbox)
	if err != nil {
		return nil, err
	}
	if !m.KeywordIndex {
		return t.scanKeywords(mbox)
	}
	var out []string
	prefix := mboxKey(mbox)
	c := t.bucket(bucketMailKeywords).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		out = append(out, string(v))
	}
	return out, nil
}

// scanKeywords reads the keywords of a mailbox not yet indexed from its
// messages (first spelling wins, like the index).
func (t *Tx) scanKeywords(mbox uint64) ([]string, error) {
	seen := map[string]string{}
	var out []string
	err := t.ForEachMessage(mbox, func(msg *Message) error {
		for _, f := range msg.Flags {
			if low := strings.ToLower(f); isKeyword(f) && seen[low] == "" {
				seen[low] = f
				out = append(out, f)
			}
		}
		return nil
	})
	return out, err
}

// checkKeywordBytes refuses a keyword longer than the bound.
func (t *Tx) checkKeywordBytes(flags []string) error {
	max := t.limits().KeywordBytes
	for _, f := range flags {
		if max > 0 && isKeyword(f) && int64(len(f)) > max {
			return &LimitError{Limit: LimitKeywordBytes, N: int64(len(f))}
		}
	}
	return nil
}

// addKeywords records the keywords among flags in m's index, refusing when
// the mailbox would have more distinct keywords than the bound. m is
// marked indexed; the caller stores m.
func (t *Tx) addKeywords(m *Mailbox, flags []string) error {
	if !slices.ContainsFunc(flags, isKeyword) {
		return nil
	}
	if err := t.checkKeywordBytes(flags); err != nil {
		return err
	}
	if err := t.indexKeywords(m); err != nil {
		return err
	}
	b := t.bucket(bucketMailKeywords)
	max := t.limits().KeywordsPerMailbox
	for _, f := range flags {
		if !isKeyword(f) || b.Get(keywordKey(m.ID, f)) != nil {
			continue
		}
		if max > 0 {
			if n := t.countKeys(bucketMailKeywords, mboxKey(m.ID)) + 1; n > max {
				return &LimitError{Limit: LimitKeywordsPerMailbox, N: n}
			}
		}
		if err := b.Put(keywordKey(m.ID, f), []byte(f)); err != nil {
			return err
		}
	}
	return nil
}

// indexKeywords fills the index of a mailbox older than it from its
// messages and marks m indexed (the caller stores m). Every write that
// may take the last occurrence of a keyword off a message (STORE -FLAGS,
// EXPUNGE) calls it first, so the list never loses a keyword that was
// once in it.
func (t *Tx) indexKeywords(m *Mailbox) error {
	if m.KeywordIndex {
		return nil
	}
	old, err := t.scanKeywords(m.ID)
	if err != nil {
		return err
	}
	b := t.bucket(bucketMailKeywords)
	for _, kw := range old {
		if err := b.Put(keywordKey(m.ID, kw), []byte(kw)); err != nil {
			return err
		}
	}
	m.KeywordIndex = true
	return nil
}

// deleteKeywords drops a deleted mailbox's index.
func (t *Tx) deleteKeywords(mbox uint64) error {
	prefix := mboxKey(mbox)
	c := t.bucket(bucketMailKeywords).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// countKeys counts the keys under prefix (keys only: nothing is decoded).
func (t *Tx) countKeys(bucket, prefix []byte) int64 {
	n := int64(0)
	c := t.bucket(bucket).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n
}

// checkMailboxNameBytes refuses a mailbox name longer than the bound.
func (t *Tx) checkMailboxNameBytes(name string) error {
	if max := t.limits().MailboxNameBytes; max > 0 && int64(len(name)) > max {
		return &LimitError{Limit: LimitMailboxNameBytes, N: int64(len(name))}
	}
	return nil
}

// checkMailboxCount refuses one more mailbox for an account at the bound.
func (t *Tx) checkMailboxCount(account string) error {
	max := t.limits().MailboxesPerAccount
	if max <= 0 {
		return nil
	}
	if n := t.countKeys(bucketMailboxNames, []byte(account+"\x00")) + 1; n > max {
		return &LimitError{Limit: LimitMailboxesPerAccount, N: n}
	}
	return nil
}
