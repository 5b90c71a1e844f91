package store

// Mail: mailboxes per account and the messages in them. A message is a
// reference to a blob (one blob shared by every recipient of a delivery)
// plus its per-mailbox state (UID, flags, MODSEQ). What IMAP shows of a
// message (envelope, body structure) is computed once by the caller
// (internal/mailmsg) and kept per blob in mailmeta; the store keeps it as
// opaque bytes.
//
// Buckets (see the package comment for the list):
//
//	mailboxes     mailbox ID (8 bytes BE) → Mailbox
//	mailboxnames  account 0x00 mailbox name → mailbox ID (8 bytes BE)
//	mailmsgs      mailbox ID (8) UID (4 bytes BE) → Message (binary,
//	              msgcodec.go)
//	mailexpunged  mailbox ID (8) UID (4) → MODSEQ (8): expunge tombstones
//	              for CONDSTORE/QRESYNC
//	mailmeta      content key (contentkey.go) → reference count (8 bytes BE) then the
//	              caller's summary bytes
//	mailstate     "uidvalidity" → last UIDVALIDITY given (8 bytes BE)
//	mailunseen    mailbox ID (8) UID (4) → empty: messages without \Seen
//	              (mailunseen.go)
//
// Mailbox IDs come from the mailboxes bucket's sequence and are never
// reused; a RENAME keeps the ID (IMAP sessions key their state by it).
// UIDVALIDITY comes from a persisted counter, so a name deleted and created
// again gets a new one. UIDNEXT only grows, in the same transaction as the
// insert. Every change to a mailbox raises its HighestModSeq; the messages
// changed carry that MODSEQ.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

var (
	bucketMailboxes    = []byte("mailboxes")
	bucketMailboxNames = []byte("mailboxnames")
	bucketMailMsgs     = []byte("mailmsgs")
	bucketMailExpunged = []byte("mailexpunged")
	bucketMailMeta     = []byte("mailmeta")
	bucketMailState    = []byte("mailstate")
)

// MailChanged is published once per mailbox and transaction that changed
// it; Data is a MailChange.
const MailChanged EventKind = "mail.changed"

func init() {
	buckets = append(buckets, bucketMailboxes, bucketMailboxNames, bucketMailMsgs,
		bucketMailExpunged, bucketMailMeta, bucketMailState)
}

// Special-use attributes (RFC 6154) of the default mailboxes.
const (
	SpecialSent    = `\Sent`
	SpecialDrafts  = `\Drafts`
	SpecialTrash   = `\Trash`
	SpecialJunk    = `\Junk`
	SpecialArchive = `\Archive`
)

// Inbox is the one mailbox name that is case-insensitive and cannot be
// deleted.
const Inbox = "INBOX"

// DefaultMailboxes every account has, created with its first mail access.
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{Inbox, ""}, {"Sent", SpecialSent}, {"Drafts", SpecialDrafts},
	{"Trash", SpecialTrash}, {"Junk", SpecialJunk}, {"Archive", SpecialArchive},
}

// Errors of mail operations callers turn into protocol responses.
var (
	ErrMailboxNotFound = errors.New("no such mailbox")
	ErrMailboxExists   = errors.New("mailbox already exists")
	ErrInboxProtected  = errors.New("INBOX cannot be deleted or replaced")
	ErrBadMailboxName  = errors.New("invalid mailbox name")
)

// MailboxDelim separates hierarchy levels in mailbox names.
const MailboxDelim = '/'

// Mailbox is one folder of one account.
type Mailbox struct {
	ID            uint64 `json:"id"`
	Account       string `json:"account"`
	Name          string `json:"name"`
	SpecialUse    string `json:"special_use,omitempty"`
	UIDValidity   uint32 `json:"uid_validity"`
	UIDNext       uint32 `json:"uid_next"`
	HighestModSeq uint64 `json:"highest_modseq"`
	Subscribed    bool   `json:"subscribed,omitempty"`
	// FirstRecent is the lowest UID no read-write IMAP session has seen
	// yet (\Recent, RFC 3501 §2.3.2); 0 in mailboxes older than it: none.
	FirstRecent uint32    `json:"first_recent,omitempty"`
	Messages    uint32    `json:"messages"`
	Size        int64     `json:"size"`
	Created     time.Time `json:"created"`
	// KeywordIndex: the mailbox's keywords are in mailkeywords
	// (maillimits.go); false only for mailboxes older than that index.
	KeywordIndex bool `json:"keyword_index,omitempty"`
	// Unseen and Deleted count the messages without \Seen and with
	// \Deleted, kept in the transaction of every change so STATUS reads
	// no message record (mailcounts.go); valid when Counted.
	Unseen  uint32 `json:"unseen,omitempty"`
	Deleted uint32 `json:"deleted,omitempty"`
	Counted bool   `json:"counted,omitempty"`
	// UnseenIndex: the UIDs without \Seen are in mailunseen
	// (mailunseen.go); false for mailboxes that never were large since
	// the index exists.
	UnseenIndex bool `json:"unseen_index,omitempty"`
}

// Message is one message in one mailbox.
type Message struct {
	UID      uint32    `json:"uid"`
	Blob     string    `json:"blob"`
	Size     int64     `json:"size"`
	Internal time.Time `json:"internal"`
	Flags    []string  `json:"flags,omitempty"` // sorted; system flags and keywords
	ModSeq   uint64    `json:"modseq"`
}

// HasFlag reports whether the message carries flag (exact spelling).
func (m *Message) HasFlag(flag string) bool {
	_, ok := slices.BinarySearch(m.Flags, flag)
	return ok
}

// MailChange tells sessions of one mailbox what a transaction changed, in
// commit order. ModSeq is the mailbox's HighestModSeq after the change.
type MailChange struct {
	Mailbox  uint64
	Account  string
	ModSeq   uint64
	Appended []Message // in UID order
	Flags    []Message // UID, Flags and ModSeq set
	Expunged []uint32  // UIDs
	Deleted  bool      // the mailbox itself was deleted
	Renamed  string    // new name after a RENAME
	// Origin is whatever the writer passed (an IMAP session uses it to
	// skip its own flag updates).
	Origin any
}

func mboxKey(id uint64) []byte { return u64(id) }

func msgKey(mbox uint64, uid uint32) []byte {
	k := make([]byte, 12)
	binary.BigEndian.PutUint64(k, mbox)
	binary.BigEndian.PutUint32(k[8:], uid)
	return k
}

func nameKey(account, name string) []byte { return []byte(account + "\x00" + name) }

// maxStoredName is what a key can carry; the bound users meet is lower
// (MailLimits.MailboxNameBytes).
const maxStoredName = 4096

// CheckMailboxName refuses names that cannot be stored or shown.
func CheckMailboxName(name string) error {
	if name == "" || len(name) > maxStoredName || strings.ContainsAny(name, "\x00\r\n*%") ||
		strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return fmt.Errorf("%w: %q", ErrBadMailboxName, name)
	}
	return nil
}

// ---- reading ----

// Mailbox returns a mailbox by ID.
func (t *Tx) Mailbox(id uint64) (*Mailbox, error) {
	v := t.bucket(bucketMailboxes).Get(mboxKey(id))
	if v == nil {
		return nil, ErrMailboxNotFound
	}
	var m Mailbox
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("mailbox %d: %w", id, err)
	}
	return &m, nil
}

// MailboxByName finds one of an account's mailboxes.
func (t *Tx) MailboxByName(account, name string) (*Mailbox, error) {
	v := t.bucket(bucketMailboxNames).Get(nameKey(account, name))
	if v == nil {
		return nil, fmt.Errorf("%w: %q", ErrMailboxNotFound, name)
	}
	return t.Mailbox(binary.BigEndian.Uint64(v))
}

// Mailboxes lists an account's mailboxes sorted by name.
func (t *Tx) Mailboxes(account string) ([]Mailbox, error) {
	var out []Mailbox
	prefix := []byte(account + "\x00")
	c := t.bucket(bucketMailboxNames).Cursor()
	for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
		m, err := t.Mailbox(binary.BigEndian.Uint64(v))
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, nil
}

// Mailboxes lists an account's mailboxes, creating the defaults first
// when the account has none yet.
func (s *Store) Mailboxes(account string) ([]Mailbox, error) {
	if err := s.EnsureMailboxes(account); err != nil {
		return nil, err
	}
	var out []Mailbox
	err := s.view(func(t *Tx) error {
		var err error
		out, err = t.Mailboxes(account)
		return err
	})
	return out, err
}

// MailboxByName is Tx.MailboxByName in its own snapshot.
func (s *Store) MailboxByName(account, name string) (*Mailbox, error) {
	var m *Mailbox
	err := s.view(func(t *Tx) error {
		var err error
		m, err = t.MailboxByName(account, name)
		return err
	})
	return m, err
}

// Message returns one message; ErrNotFound when it is gone.
func (t *Tx) Message(mbox uint64, uid uint32) (*Message, error) {
	v := t.bucket(bucketMailMsgs).Get(msgKey(mbox, uid))
	if v == nil {
		return nil, ErrNotFound
	}
	var m Message
	if err := decodeMessage(v, &m); err != nil {
		return nil, fmt.Errorf("message %d/%d: %w", mbox, uid, err)
	}
	return &m, nil
}

// ForEachMessage calls fn for every message of a mailbox in UID order.
func (t *Tx) ForEachMessage(mbox uint64, fn func(m *Message) error) error {
	prefix := mboxKey(mbox)
	c := t.bucket(bucketMailMsgs).Cursor()
	for k, v := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, v = c.Next() {
		var m Message
		if err := decodeMessage(v, &m); err != nil {
			return fmt.Errorf("message %x: %w", k, err)
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
	return nil
}

// UIDs returns a mailbox's UIDs in order and its HighestModSeq, from one
// snapshot: IMAP sessions start their view from it.
func (t *Tx) UIDs(mbox uint64) ([]uint32, uint64, error) {
	m, err := t.Mailbox(mbox)
	if err != nil {
		return nil, 0, err
	}
	uids := make([]uint32, 0, m.Messages)
	prefix := mboxKey(mbox)
	c := t.bucket(bucketMailMsgs).Cursor()
	for k, _ := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, _ = c.Next() {
		uids = append(uids, binary.BigEndian.Uint32(k[8:]))
	}
	return uids, m.HighestModSeq, nil
}

// MessageMeta returns the summary bytes stored with a blob by Deliver or
// Append (nil if none).
func (t *Tx) MessageMeta(hash string) []byte {
	v := t.bucket(bucketMailMeta).Get([]byte(hash))
	if len(v) < 8 {
		return nil
	}
	return slices.Clone(v[8:])
}

// ExpungedSince lists UIDs expunged from a mailbox with a MODSEQ above
// modseq (QRESYNC's VANISHED).
func (t *Tx) ExpungedSince(mbox uint64, modseq uint64) ([]uint32, error) {
	var out []uint32
	prefix := mboxKey(mbox)
	c := t.bucket(bucketMailExpunged).Cursor()
	for k, v := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, v = c.Next() {
		if binary.BigEndian.Uint64(v) > modseq {
			out = append(out, binary.BigEndian.Uint32(k[8:]))
		}
	}
	return out, nil
}

// ---- mailboxes ----

// EnsureMailboxes creates the default mailboxes an account lacks. Cheap
// when they exist.
func (s *Store) EnsureMailboxes(account string) error {
	missing := false
	err := s.view(func(t *Tx) error {
		if _, err := t.Account(account); err != nil {
			return err
		}
		for _, d := range DefaultMailboxes {
			if t.bucket(bucketMailboxNames).Get(nameKey(account, d.Name)) == nil && d.Name == Inbox {
				missing = true
			}
		}
		return nil
	})
	if err != nil || !missing {
		return err
	}
	return s.update(func(t *Tx) error { return t.ensureMailboxes(account) })
}

// ensureMailboxes creates INBOX and the special-use mailboxes when INBOX is
// missing (a user who deleted "Junk" keeps it deleted).
func (t *Tx) ensureMailboxes(account string) error {
	if t.bucket(bucketMailboxNames).Get(nameKey(account, Inbox)) != nil {
		return nil
	}
	for _, d := range DefaultMailboxes {
		if t.bucket(bucketMailboxNames).Get(nameKey(account, d.Name)) != nil {
			continue
		}
		if _, err := t.createMailbox(account, d.Name, d.SpecialUse); err != nil {
			return err
		}
		if err := t.setSubscribed(account, d.Name, true); err != nil {
			return err
		}
	}
	return nil
}

// nextUIDValidity hands out a new UIDVALIDITY. It starts at the current
// Unix time so a database created again does not repeat old values.
func (t *Tx) nextUIDValidity() (uint32, error) {
	b := t.bucket(bucketMailState)
	last := uint64(0)
	if v := b.Get([]byte("uidvalidity")); v != nil {
		last = binary.BigEndian.Uint64(v)
	}
	next := last + 1
	if now := uint64(time.Now().Unix()); now > next && last == 0 {
		next = now
	}
	if next > 0xffffffff {
		return 0, errors.New("UIDVALIDITY space exhausted")
	}
	return uint32(next), b.Put([]byte("uidvalidity"), u64(next))
}

// CreateMailbox creates a mailbox. It is not subscribed (RFC 3501: the
// client subscribes); only the default mailboxes are. The account's mailbox
// count and the name's length are bounded (MailLimits).
func (t *Tx) CreateMailbox(account, name, specialUse string) (*Mailbox, error) {
	if err := CheckMailboxName(name); err != nil {
		return nil, err
	}
	if err := t.checkMailboxNameBytes(name); err != nil {
		return nil, err
	}
	if t.bucket(bucketMailboxNames).Get(nameKey(account, name)) == nil {
		if err := t.checkMailboxCount(account); err != nil {
			return nil, err
		}
	}
	return t.createMailbox(account, name, specialUse)
}

// createMailbox creates a mailbox without the bounds (the defaults every
// account has).
func (t *Tx) createMailbox(account, name, specialUse string) (*Mailbox, error) {
	if err := CheckMailboxName(name); err != nil {
		return nil, err
	}
	names := t.bucket(bucketMailboxNames)
	if names.Get(nameKey(account, name)) != nil {
		return nil, fmt.Errorf("%w: %q", ErrMailboxExists, name)
	}
	id, err := t.bucket(bucketMailboxes).NextSequence()
	if err != nil {
		return nil, err
	}
	uv, err := t.nextUIDValidity()
	if err != nil {
		return nil, err
	}
	m := &Mailbox{ID: id, Account: account, Name: name, SpecialUse: specialUse,
		UIDValidity: uv, UIDNext: 1, HighestModSeq: 1, FirstRecent: 1, Created: time.Now().UTC(),
		KeywordIndex: true, Counted: true}
	if err := t.putMailbox(m); err != nil {
		return nil, err
	}
	return m, names.Put(nameKey(account, name), mboxKey(id))
}

// CreateMailbox is Tx.CreateMailbox in its own transaction.
func (s *Store) CreateMailbox(account, name, specialUse string) (*Mailbox, error) {
	var m *Mailbox
	err := s.update(func(t *Tx) error {
		if err := t.ensureMailboxes(account); err != nil {
			return err
		}
		var err error
		m, err = t.CreateMailbox(account, name, specialUse)
		return err
	})
	return m, err
}

func (t *Tx) putMailbox(m *Mailbox) error {
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return t.bucket(bucketMailboxes).Put(mboxKey(m.ID), v)
}

// DeleteMailbox removes a mailbox and its messages. Its children stay.
func (s *Store) DeleteMailbox(account, name string) error {
	return s.update(func(t *Tx) error {
		if strings.EqualFold(name, Inbox) {
			return ErrInboxProtected
		}
		m, err := t.MailboxByName(account, name)
		if err != nil {
			return err
		}
		return t.deleteMailbox(m)
	})
}

func (t *Tx) deleteMailbox(m *Mailbox) error {
	if m.Subscribed { // the subscription outlives the mailbox
		if err := t.bucket(bucketMailSubs).Put(nameKey(m.Account, m.Name), nil); err != nil {
			return err
		}
	}
	var uids []uint32
	err := t.ForEachMessage(m.ID, func(msg *Message) error {
		uids = append(uids, msg.UID)
		return t.dropBlobRef(msg.Blob)
	})
	if err != nil {
		return err
	}
	for _, b := range [][]byte{bucketMailMsgs, bucketMailExpunged, bucketMailAppends, bucketMailUnseen} {
		bk := t.bucket(b)
		prefix := mboxKey(m.ID)
		c := bk.Cursor()
		for k, _ := c.Seek(prefix); k != nil && string(k[:8]) == string(prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	if err := t.bucket(bucketMailboxNames).Delete(nameKey(m.Account, m.Name)); err != nil {
		return err
	}
	if err := t.deleteKeywords(m.ID); err != nil {
		return err
	}
	t.publish(Event{Kind: MailChanged, Account: m.Account, Data: MailChange{
		Mailbox: m.ID, Account: m.Account, ModSeq: m.HighestModSeq + 1, Expunged: uids, Deleted: true}})
	return t.bucket(bucketMailboxes).Delete(mboxKey(m.ID))
}

// RenameMailbox renames a mailbox and its children, keeping IDs,
// UIDVALIDITY and messages.
func (s *Store) RenameMailbox(account, oldName, newName string) error {
	return s.update(func(t *Tx) error {
		if strings.EqualFold(newName, Inbox) {
			return ErrInboxProtected
		}
		if err := CheckMailboxName(newName); err != nil {
			return err
		}
		if err := t.checkMailboxNameBytes(newName); err != nil {
			return err
		}
		if strings.EqualFold(oldName, Inbox) {
			return t.renameInbox(account, newName)
		}
		if _, err := t.MailboxByName(account, oldName); err != nil {
			return err
		}
		if t.bucket(bucketMailboxNames).Get(nameKey(account, newName)) != nil {
			return fmt.Errorf("%w: %q", ErrMailboxExists, newName)
		}
		all, err := t.Mailboxes(account)
		if err != nil {
			return err
		}
		for _, m := range all {
			var to string
			switch {
			case m.Name == oldName:
				to = newName
			case strings.HasPrefix(m.Name, oldName+"/"):
				to = newName + m.Name[len(oldName):]
			default:
				continue
			}
			if t.bucket(bucketMailboxNames).Get(nameKey(account, to)) != nil {
				return fmt.Errorf("%w: %q", ErrMailboxExists, to)
			}
			if err := t.checkMailboxNameBytes(to); err != nil {
				return err // a child's name grows with its parent's
			}
			if err := t.bucket(bucketMailboxNames).Delete(nameKey(account, m.Name)); err != nil {
				return err
			}
			from := m.Name
			m.Name = to
			if err := t.putMailbox(&m); err != nil {
				return err
			}
			if err := t.bucket(bucketMailboxNames).Put(nameKey(account, to), mboxKey(m.ID)); err != nil {
				return err
			}
			if err := t.renameSubscription(account, from, to); err != nil {
				return err
			}
			t.publish(Event{Kind: MailChanged, Account: account, Data: MailChange{
				Mailbox: m.ID, Account: account, ModSeq: m.HighestModSeq, Renamed: to}})
		}
		return nil
	})
}

// renameInbox does what RFC 3501 asks of RENAME INBOX: its messages move
// to a new mailbox of that name and INBOX stays, empty.
func (t *Tx) renameInbox(account, newName string) error {
	inbox, err := t.MailboxByName(account, Inbox)
	if err != nil {
		return err
	}
	dest, err := t.CreateMailbox(account, newName, "")
	if err != nil {
		return err
	}
	var uids []uint32
	var msgs []NewMessage
	err = t.ForEachMessage(inbox.ID, func(m *Message) error {
		uids = append(uids, m.UID)
		msgs = append(msgs, NewMessage{Blob: &PendingBlob{Blob: Blob{Hash: m.Blob, Size: m.Size}},
			Flags: m.Flags, Internal: m.Internal})
		return nil
	})
	if err != nil || len(msgs) == 0 {
		return err
	}
	if _, err := t.appendMessages(dest, msgs, nil); err != nil {
		return err
	}
	_, err = t.Expunge(inbox.ID, uids, nil)
	return err
}

// ---- messages ----

// NewMessage describes one message to store: a blob written with
// WriteBlob, the caller's summary bytes (kept once per blob) and the
// initial flags.
type NewMessage struct {
	Blob     *PendingBlob
	Meta     []byte
	Flags    []string
	Internal time.Time
	// Search is the header index SEARCH reads (mailsearch.go); nil: the
	// store computes it when the blob is new.
	Search []byte
}

// Delivery is one accepted SMTP message for a set of accounts.
type Delivery struct {
	NewMessage
	Recipients []string // account names; duplicates are delivered once
	Origin     any
	// Sent, if set, is the sender's reserved slot (ReserveSend); the
	// delivery records it in the same transaction.
	Sent *SendSlot
}

// Delivered says where a message landed.
type Delivered struct {
	Account     string
	Mailbox     uint64
	UIDValidity uint32
	UID         uint32
}

// Deliver stores one message into the INBOX of every recipient in one
// shared transaction (group commit: concurrent deliveries share an fsync). The
// blob must already be written; the caller releases it afterwards. When
// Deliver returns nil the message is durable. A recipient whose account no
// longer exists (deleted since the caller looked) is skipped in that same
// transaction, so no mailbox is made for it: the result lists only the
// accounts that got the message, and may be empty.
func (s *Store) Deliver(d Delivery) ([]Delivered, error) {
	recips := slices.Clone(d.Recipients)
	slices.Sort(recips)
	recips = slices.Compact(recips)
	if d.Internal.IsZero() {
		d.Internal = time.Now().UTC()
	}
	s.prepareSearch(&d.NewMessage) // outside the shared transaction
	var out []Delivered
	err := s.batch(func(t *Tx) error {
		out = out[:0]
		for _, r := range recips {
			if t.bucket(bucketAccounts).Get([]byte(r)) == nil {
				continue // deleted since RCPT
			}
			if err := t.ensureMailboxes(r); err != nil {
				return err
			}
			m, err := t.MailboxByName(r, Inbox)
			if err != nil {
				return err
			}
			uid, err := t.appendMessages(m, []NewMessage{d.NewMessage}, d.Origin)
			if err != nil {
				return err
			}
			out = append(out, Delivered{Account: r, Mailbox: m.ID, UIDValidity: m.UIDValidity, UID: uid[0]})
		}
		if d.Sent != nil && len(out) > 0 {
			return t.recordSent(d.Sent)
		}
		return nil
	})
	if err == nil && d.Sent != nil && len(out) > 0 {
		d.Sent.recorded = true
	}
	return out, err
}

// Append stores one message into a mailbox (IMAP APPEND).
func (s *Store) Append(account, mailbox string, msg NewMessage, origin any) (Delivered, error) {
	var out Delivered
	if msg.Internal.IsZero() {
		msg.Internal = time.Now().UTC()
	}
	s.prepareSearch(&msg)
	err := s.batch(func(t *Tx) error {
		m, err := t.MailboxByName(account, mailbox)
		if err != nil {
			return err
		}
		uids, err := t.appendMessages(m, []NewMessage{msg}, origin)
		if err != nil {
			return err
		}
		out = Delivered{Account: account, Mailbox: m.ID, UIDValidity: m.UIDValidity, UID: uids[0]}
		return nil
	})
	return out, err
}

// appendMessages inserts messages into m (updated and stored), taking
// UIDs from UIDNEXT in this transaction, and publishes one change.
func (t *Tx) appendMessages(m *Mailbox, msgs []NewMessage, origin any) ([]uint32, error) {
	m.HighestModSeq++
	ch := MailChange{Mailbox: m.ID, Account: m.Account, ModSeq: m.HighestModSeq, Origin: origin}
	uids := make([]uint32, 0, len(msgs))
	for _, nm := range msgs {
		if m.UIDNext == 0xffffffff {
			return nil, errors.New("mailbox UID space exhausted")
		}
		key, err := t.addMailInline(nm.Blob)
		if err != nil {
			return nil, err
		}
		msg := Message{UID: m.UIDNext, Blob: key, Size: nm.Blob.Size,
			Internal: nm.Internal.UTC(), Flags: normFlags(nm.Flags), ModSeq: m.HighestModSeq}
		if err := t.addKeywords(m, msg.Flags); err != nil {
			return nil, err
		}
		fresh := t.bucket(bucketMailMeta).Get([]byte(key)) == nil
		if err := t.addBlobRef(key, nm.Meta); err != nil {
			return nil, err
		}
		if fresh {
			if err := t.putSearch(nm, key); err != nil {
				return nil, err
			}
		}
		if err := t.putMessage(m.ID, &msg); err != nil {
			return nil, err
		}
		m.UIDNext++
		if err := t.countMessage(m, msg.UID, msg.Flags, 1); err != nil {
			return nil, err
		}
		m.Messages++
		if m.Messages == t.s.unseenFrom && !m.UnseenIndex {
			if err := t.buildUnseen(m); err != nil { // from here on kept
				return nil, err
			}
		}
		m.Size += msg.Size
		uids = append(uids, msg.UID)
		ch.Appended = append(ch.Appended, msg)
	}
	if err := t.noteAppend(m.ID, m.HighestModSeq, uids); err != nil {
		return nil, err
	}
	t.publish(Event{Kind: MailChanged, Account: m.Account, Data: ch})
	return uids, t.putMailbox(m)
}

func (t *Tx) putMessage(mbox uint64, m *Message) error {
	v, err := encodeMessage(m)
	if err != nil {
		return err
	}
	return t.bucket(bucketMailMsgs).Put(msgKey(mbox, m.UID), v)
}

// addBlobRef references a blob from one more message and keeps the
// summary with it.
func (t *Tx) addBlobRef(hash string, meta []byte) error {
	if err := t.refBlob(hash); err != nil {
		return err
	}
	b := t.bucket(bucketMailMeta)
	v := b.Get([]byte(hash))
	n := uint64(0)
	if len(v) >= 8 {
		n = binary.BigEndian.Uint64(v)
		meta = v[8:]
	}
	nv := make([]byte, 8+len(meta))
	binary.BigEndian.PutUint64(nv, n+1)
	copy(nv[8:], meta)
	return b.Put([]byte(hash), nv)
}

// dropBlobRef undoes addBlobRef.
func (t *Tx) dropBlobRef(hash string) error {
	b := t.bucket(bucketMailMeta)
	if v := b.Get([]byte(hash)); len(v) >= 8 {
		n := binary.BigEndian.Uint64(v)
		if n <= 1 {
			if err := b.Delete([]byte(hash)); err != nil {
				return err
			}
			if err := t.bucket(bucketMailSearch).Delete([]byte(hash)); err != nil {
				return err
			}
		} else {
			nv := slices.Clone(v)
			binary.BigEndian.PutUint64(nv, n-1)
			if err := b.Put([]byte(hash), nv); err != nil {
				return err
			}
		}
	}
	return t.unrefBlob(hash)
}

// normFlags sorts and deduplicates.
func normFlags(flags []string) []string {
	out := slices.Clone(flags)
	slices.Sort(out)
	return slices.Compact(out)
}

// FlagOp says how StoreFlags changes flags.
type FlagOp int

const (
	FlagsSet FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// StoreFlags changes the flags of the given messages (missing UIDs are
// skipped) and returns the messages whose flags changed. Unchanged
// messages keep their MODSEQ.
func (s *Store) StoreFlags(mbox uint64, uids []uint32, op FlagOp, flags []string, origin any) ([]Message, error) {
	var out []Message
	err := s.batch(func(t *Tx) error {
		var err error
		out, err = t.StoreFlags(mbox, uids, op, flags, origin)
		return err
	})
	return out, err
}

func (t *Tx) StoreFlags(mbox uint64, uids []uint32, op FlagOp, flags []string, origin any) ([]Message, error) {
	m, err := t.Mailbox(mbox)
	if err != nil {
		return nil, err
	}
	flags = normFlags(flags)
	// New keywords are counted (and refused) before any message changes.
	indexed := m.KeywordIndex
	if op != FlagsRemove {
		if err := t.addKeywords(m, flags); err != nil {
			return nil, err
		}
	} else if err := t.indexKeywords(m); err != nil {
		return nil, err
	}
	modseq := m.HighestModSeq + 1
	var changed []Message
	for _, uid := range uids {
		msg, err := t.Message(mbox, uid)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		var nf []string
		switch op {
		case FlagsSet:
			nf = flags
		case FlagsAdd:
			nf = normFlags(append(slices.Clone(msg.Flags), flags...))
		case FlagsRemove:
			nf = slices.DeleteFunc(slices.Clone(msg.Flags), func(f string) bool {
				_, found := slices.BinarySearch(flags, f)
				return found
			})
		}
		if slices.Equal(nf, msg.Flags) {
			continue
		}
		if err := t.reflagMessage(m, uid, msg.Flags, nf); err != nil {
			return nil, err
		}
		msg.Flags, msg.ModSeq = slices.Clone(nf), modseq
		if err := t.putMessage(mbox, msg); err != nil {
			return nil, err
		}
		changed = append(changed, *msg)
	}
	if len(changed) == 0 {
		if m.KeywordIndex != indexed {
			return nil, t.putMailbox(m)
		}
		return nil, nil
	}
	m.HighestModSeq = modseq
	t.publish(Event{Kind: MailChanged, Account: m.Account, Data: MailChange{
		Mailbox: mbox, Account: m.Account, ModSeq: modseq, Flags: changed, Origin: origin}})
	return changed, t.putMailbox(m)
}

// Expunge removes the given messages (missing UIDs are skipped), leaves
// tombstones and returns the UIDs removed.
func (s *Store) Expunge(mbox uint64, uids []uint32, origin any) ([]uint32, error) {
	var out []uint32
	err := s.batch(func(t *Tx) error {
		var err error
		out, err = t.Expunge(mbox, uids, origin)
		return err
	})
	return out, err
}

func (t *Tx) Expunge(mbox uint64, uids []uint32, origin any) ([]uint32, error) {
	m, err := t.Mailbox(mbox)
	if err != nil {
		return nil, err
	}
	indexed := m.KeywordIndex
	if err := t.indexKeywords(m); err != nil {
		return nil, err
	}
	modseq := m.HighestModSeq + 1
	var gone []uint32
	for _, uid := range uids {
		msg, err := t.Message(mbox, uid)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if err := t.bucket(bucketMailMsgs).Delete(msgKey(mbox, uid)); err != nil {
			return nil, err
		}
		if err := t.bucket(bucketMailExpunged).Put(msgKey(mbox, uid), u64(modseq)); err != nil {
			return nil, err
		}
		if err := t.dropBlobRef(msg.Blob); err != nil {
			return nil, err
		}
		if err := t.countMessage(m, uid, msg.Flags, -1); err != nil {
			return nil, err
		}
		m.Messages--
		m.Size -= msg.Size
		gone = append(gone, uid)
	}
	if len(gone) == 0 {
		if m.KeywordIndex != indexed {
			return nil, t.putMailbox(m)
		}
		return nil, nil
	}
	slices.Sort(gone)
	m.HighestModSeq = modseq
	t.publish(Event{Kind: MailChanged, Account: m.Account, Data: MailChange{
		Mailbox: mbox, Account: m.Account, ModSeq: modseq, Expunged: gone, Origin: origin}})
	return gone, t.putMailbox(m)
}

// CopyResult maps source UIDs to the UIDs of the copies.
type CopyResult struct {
	UIDValidity uint32
	Source      []uint32
	Dest        []uint32
}

// CopyMessages copies messages to another mailbox of the same account
// (flags and internal date kept; the blob is shared). With move the
// originals are expunged in the same transaction.
func (s *Store) CopyMessages(src uint64, uids []uint32, account, dest string, move bool, origin any) (*CopyResult, error) {
	var res *CopyResult
	err := s.batch(func(t *Tx) error {
		dm, err := t.MailboxByName(account, dest)
		if err != nil {
			return err
		}
		res = &CopyResult{UIDValidity: dm.UIDValidity}
		var msgs []NewMessage
		for _, uid := range uids {
			msg, err := t.Message(src, uid)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			res.Source = append(res.Source, uid)
			msgs = append(msgs, NewMessage{Blob: &PendingBlob{Blob: Blob{Hash: msg.Blob, Size: msg.Size}},
				Flags: msg.Flags, Internal: msg.Internal})
		}
		if len(msgs) == 0 {
			return nil
		}
		res.Dest, err = t.appendMessages(dm, msgs, origin)
		if err != nil {
			return err
		}
		if move {
			_, err = t.Expunge(src, res.Source, origin)
			if err == nil && dm.ID == src {
				t.mergeLastMailChanges()
			}
		}
		return err
	})
	return res, err
}

// mergeLastMailChanges joins a MOVE into its own mailbox (new UIDs, the
// old ones expunged, as RFC 6851 and Dovecot do) into one change, so
// sessions see the EXPUNGE before the EXISTS that brings the copy back.
func (t *Tx) mergeLastMailChanges() {
	n := len(t.events)
	if n < 2 {
		return
	}
	a, okA := t.events[n-2].Data.(MailChange)
	b, okB := t.events[n-1].Data.(MailChange)
	if !okA || !okB || a.Mailbox != b.Mailbox {
		return
	}
	a.Expunged = append(a.Expunged, b.Expunged...)
	a.Flags = append(a.Flags, b.Flags...)
	a.ModSeq = max(a.ModSeq, b.ModSeq)
	t.events[n-2].Data = a
	t.events = t.events[:n-1]
}
