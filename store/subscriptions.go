package store

import (
	"strings"
)

// IMAP subscriptions are a list of names per account, independent of the
// mailboxes: RFC 3501 §6.3.6 says a subscription stays when its mailbox is
// deleted, and one may name a mailbox that does not exist (yet).
//
// Databases written before this bucket kept the subscription as
// Mailbox.Subscribed; that flag still counts and is moved into the bucket
// the next time the mailbox's subscription changes or the mailbox goes.

var bucketMailSubs = []byte("mailsubs")

func init() {
	buckets = append(buckets, bucketMailSubs)
}

// SetSubscribed records a SUBSCRIBE or UNSUBSCRIBE of a name.
func (s *Store) SetSubscribed(account, name string, on bool) error {
	return s.update(func(t *Tx) error { return t.setSubscribed(account, name, on) })
}

func (t *Tx) setSubscribed(account, name string, on bool) error {
	if err := CheckMailboxName(name); err != nil {
		return err
	}
	if m, err := t.MailboxByName(account, name); err == nil && m.Subscribed {
		m.Subscribed = false // the old place of the flag
		if err := t.putMailbox(m); err != nil {
			return err
		}
	}
	b := t.bucket(bucketMailSubs)
	if on {
		return b.Put(nameKey(account, name), nil)
	}
	return b.Delete(nameKey(account, name))
}

// Subscriptions returns the subscribed names of an account.
func (s *Store) Subscriptions(account string) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.view(func(t *Tx) error {
		prefix := account + "\x00"
		c := t.bucket(bucketMailSubs).Cursor()
		for k, _ := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, _ = c.Next() {
			out[string(k[len(prefix):])] = true
		}
		all, err := t.Mailboxes(account)
		for _, m := range all {
			if m.Subscribed {
				out[m.Name] = true
			}
		}
		return err
	})
	return out, err
}

// renameSubscription lets a subscription follow its mailbox through RENAME,
// so the folder does not vanish from clients that show subscribed ones.
func (t *Tx) renameSubscription(account, from, to string) error {
	b := t.bucket(bucketMailSubs)
	if b.Get(nameKey(account, from)) == nil {
		return nil
	}
	if err := b.Delete(nameKey(account, from)); err != nil {
		return err
	}
	return b.Put(nameKey(account, to), nil)
}
