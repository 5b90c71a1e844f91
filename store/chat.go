package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Chat: rooms, messages and read marks. A room is "g:<group>" (one per
// group; who is in it is the group's membership, read at every access, so
// it is always in sync) or "d:<a>:<b>" (a direct conversation, names
// sorted). Every change to a room (new message, edit, delete) takes the
// room's next sequence number in the transaction that writes it, and is
// published on the feed (ChatChanged) only after the commit.
//
//	chatrooms   room ID → ChatRoom (its last sequence number inside)
//	chatmsgs    room 0x00 seq (8 bytes BE) → ChatMessage
//	chatrev     room 0x00 rev (8 bytes BE) → seq (8 bytes BE): the messages
//	            in the order of their last change, so a client resuming
//	            after rev N gets new, edited and deleted messages alike
//	chatread    account 0x00 room → seq (8 bytes BE) read up to
//	chatdirect  account 0x00 room → "" (the direct rooms of an account)

var (
	bucketChatRooms  = []byte("chatrooms")
	bucketChatMsgs   = []byte("chatmsgs")
	bucketChatRev    = []byte("chatrev")
	bucketChatRead   = []byte("chatread")
	bucketChatDirect = []byte("chatdirect")
)

// ChatChanged is published for every new, edited or deleted message; Data
// is a ChatChange.
const ChatChanged EventKind = "chat.changed"

func init() {
	buckets = append(buckets, bucketChatRooms, bucketChatMsgs, bucketChatRev, bucketChatRead, bucketChatDirect)
}

// ChatRoom is one room.
type ChatRoom struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"` // group or direct
	Group   string    `json:"group,omitempty"`
	Members []string  `json:"members,omitempty"` // direct: the two accounts
	Seq     uint64    `json:"seq"`               // last sequence number used
	Created time.Time `json:"created"`
}

// ChatMessage is one message. A deleted one stays as a tombstone without
// its text, so the conversation keeps its shape.
type ChatMessage struct {
	Seq       uint64    `json:"seq"`
	Rev       uint64    `json:"rev"` // sequence number of its last change
	Author    string    `json:"author"`
	Text      string    `json:"text,omitempty"`
	Time      time.Time `json:"time"`
	Edited    bool      `json:"edited,omitempty"`
	Deleted   bool      `json:"deleted,omitempty"`
	DeletedBy string    `json:"deleted_by,omitempty"`
}

// ChatChange is the feed event's payload.
type ChatChange struct {
	Room    string
	Message ChatMessage
}

// GroupRoomID and DirectRoomID name rooms.
func GroupRoomID(group string) string { return "g:" + group }

func DirectRoomID(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return "d:" + a + ":" + b
}

// ParseRoomID splits a room ID: kind "group" with the group, or "direct"
// with the two accounts.
func ParseRoomID(id string) (kind string, names []string, ok bool) {
	switch {
	case strings.HasPrefix(id, "g:") && len(id) > 2:
		return "group", []string{id[2:]}, true
	case strings.HasPrefix(id, "d:"):
		p := strings.Split(id[2:], ":")
		if len(p) == 2 && p[0] != "" && p[1] != "" && p[0] < p[1] {
			return "direct", p, true
		}
	}
	return "", nil, false
}

func chatKey(room string, seq uint64) []byte {
	k := make([]byte, 0, len(room)+9)
	k = append(k, room...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

func roomPrefix(room string) []byte { return append([]byte(room), 0) }

// ChatRoom returns a room that has been used or opened.
func (t *Tx) ChatRoom(id string) (*ChatRoom, error) {
	v := t.bucket(bucketChatRooms).Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("room %q: %w", id, ErrNotFound)
	}
	var r ChatRoom
	return &r, json.Unmarshal(v, &r)
}

// ensureRoom returns the room, creating it on first use.
func (t *Tx) ensureRoom(id string, now time.Time) (*ChatRoom, error) {
	r, err := t.ChatRoom(id)
	if err == nil {
		return r, nil
	}
	kind, names, ok := ParseRoomID(id)
	if !ok {
		return nil, fmt.Errorf("room %q: %w", id, ErrNotFound)
	}
	r = &ChatRoom{ID: id, Kind: kind, Created: now}
	if kind == "group" {
		r.Group = names[0]
	} else {
		r.Members = names
		for _, n := range names {
			if err := t.bucket(bucketChatDirect).Put([]byte(n+"\x00"+id), nil); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

func (t *Tx) putRoom(r *ChatRoom) error {
	v, _ := json.Marshal(r)
	return t.bucket(bucketChatRooms).Put([]byte(r.ID), v)
}

func (t *Tx) putChatMessage(room string, m *ChatMessage, oldRev uint64) error {
	v, _ := json.Marshal(m)
	if err := t.bucket(bucketChatMsgs).Put(chatKey(room, m.Seq), v); err != nil {
		return err
	}
	if oldRev != 0 {
		if err := t.bucket(bucketChatRev).Delete(chatKey(room, oldRev)); err != nil {
			return err
		}
	}
	if err := t.bucket(bucketChatRev).Put(chatKey(room, m.Rev), u64(m.Seq)); err != nil {
		return err
	}
	t.publish(Event{Kind: ChatChanged, Data: ChatChange{Room: room, Message: *m}})
	return nil
}

// OpenDirectRoom creates a direct room (if new) so both sides list it.
func (s *Store) OpenDirectRoom(id string) error {
	return s.update(func(t *Tx) error {
		r, err := t.ensureRoom(id, time.Now().UTC())
		if err != nil {
			return err
		}
		return t.putRoom(r)
	})
}

// PostMessage commits a new message with the room's next sequence number.
// check runs inside the transaction (membership re-read there). Concurrent
// posts share one fsync (bbolt's Batch).
func (s *Store) PostMessage(room, author, text string, at time.Time, check func(*Tx) error) (ChatMessage, error) {
	var out ChatMessage
	err := s.batch(func(t *Tx) error {
		if check != nil {
			if err := check(t); err != nil {
				return err
			}
		}
		r, err := t.ensureRoom(room, at)
		if err != nil {
			return err
		}
		r.Seq++
		m := ChatMessage{Seq: r.Seq, Rev: r.Seq, Author: author, Text: text, Time: at}
		if err := t.putRoom(r); err != nil {
			return err
		}
		out = m
		return t.putChatMessage(room, &m, 0)
	})
	return out, err
}

// ChatPost is one message to post with PostMessages.
type ChatPost struct {
	Room, Author, Text string
	At                 time.Time
	Check              func(*Tx) error // runs in the transaction; an error skips this post
}

// PostMessages commits several posts in one transaction, in order, each
// with its room's next sequence number. A post whose check fails is
// skipped and its error returned in errs; the others commit. A chat
// connection uses it to commit what its user sent while the previous
// commit was in flight, so a slow disk costs one fsync per batch, not per
// message.
func (s *Store) PostMessages(posts []ChatPost) (msgs []ChatMessage, errs []error, err error) {
	err = s.batch(func(t *Tx) error {
		var err error
		msgs, errs, err = t.postMessages(posts) // fn may run again: outputs reset inside
		return err
	})
	return msgs, errs, err
}

// CommitMessages is PostMessages in a transaction of its own, without
// Batch's wait for company: for a caller that gathers posts itself (the
// chat hub's one committer), so a message costs one commit, not a commit
// plus Batch's delay.
func (s *Store) CommitMessages(posts []ChatPost) (msgs []ChatMessage, errs []error, err error) {
	err = s.update(func(t *Tx) error {
		var err error
		msgs, errs, err = t.postMessages(posts)
		return err
	})
	return msgs, errs, err
}

func (t *Tx) postMessages(posts []ChatPost) ([]ChatMessage, []error, error) {
	msgs, errs := make([]ChatMessage, len(posts)), make([]error, len(posts))
	for i, p := range posts {
		if p.Check != nil {
			if err := p.Check(t); err != nil {
				errs[i] = err
				continue
			}
		}
		r, err := t.ensureRoom(p.Room, p.At)
		if err != nil {
			errs[i] = err
			continue
		}
		r.Seq++
		m := ChatMessage{Seq: r.Seq, Rev: r.Seq, Author: p.Author, Text: p.Text, Time: p.At}
		if err := t.putRoom(r); err != nil {
			return nil, nil, err
		}
		if err := t.putChatMessage(p.Room, &m, 0); err != nil {
			return nil, nil, err
		}
		msgs[i] = m
	}
	return msgs, errs, nil
}

// ChatMessage returns one message of a room.
func (t *Tx) ChatMessage(room string, seq uint64) (*ChatMessage, error) {
	v := t.bucket(bucketChatMsgs).Get(chatKey(room, seq))
	if v == nil {
		return nil, fmt.Errorf("message %s/%d: %w", room, seq, ErrNotFound)
	}
	var m ChatMessage
	return &m, json.Unmarshal(v, &m)
}

// ChangeMessage edits (text != nil) or deletes (text == nil) a message.
// check sees the message first and may refuse; a deleted message cannot
// be changed again.
func (s *Store) ChangeMessage(room string, seq uint64, by string, text *string, check func(*ChatMessage) error) (ChatMessage, error) {
	var out ChatMessage
	err := s.update(func(t *Tx) error {
		m, err := t.ChatMessage(room, seq)
		if err != nil {
			return err
		}
		if m.Deleted {
			return fmt.Errorf("message %s/%d: %w", room, seq, ErrNotFound)
		}
		if err := check(m); err != nil {
			return err
		}
		r, err := t.ChatRoom(room)
		if err != nil {
			return err
		}
		r.Seq++
		old := m.Rev
		m.Rev = r.Seq
		if text != nil {
			m.Text, m.Edited = *text, true
		} else {
			m.Text, m.Deleted, m.DeletedBy = "", true, by
		}
		if err := t.putRoom(r); err != nil {
			return err
		}
		out = *m
		return t.putChatMessage(room, m, old)
	})
	return out, err
}

// RoomSeq is the last sequence number of a room (0 for a new room).
func (s *Store) RoomSeq(room string) (uint64, error) {
	var seq uint64
	err := s.view(func(t *Tx) error {
		if r, err := t.ChatRoom(room); err == nil {
			seq = r.Seq
		}
		return nil
	})
	return seq, err
}

// ChangesSince returns the messages created or changed after rev, in the
// order of their change, at most limit; more reports whether there are
// further ones.
func (s *Store) ChangesSince(room string, rev uint64, limit int) (msgs []ChatMessage, more bool, err error) {
	err = s.view(func(t *Tx) error {
		p := roomPrefix(room)
		c := t.bucket(bucketChatRev).Cursor()
		for k, v := c.Seek(chatKey(room, rev+1)); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if len(msgs) == limit {
				more = true
				return nil
			}
			m, err := t.ChatMessage(room, binary.BigEndian.Uint64(v))
			if err != nil {
				return err
			}
			msgs = append(msgs, *m)
		}
		return nil
	})
	return msgs, more, err
}

// History returns up to limit messages before seq (0: the newest), oldest
// first, and whether older ones exist.
func (s *Store) History(room string, before uint64, limit int) (msgs []ChatMessage, more bool, err error) {
	err = s.view(func(t *Tx) error {
		p := roomPrefix(room)
		c := t.bucket(bucketChatMsgs).Cursor()
		if before == 0 {
			before = ^uint64(0)
		}
		// Seek lands on the first key at or after before; the one before
		// it is the newest message older than before.
		k, v := c.Seek(chatKey(room, before))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Prev() {
			if len(msgs) == limit {
				more = true
				break
			}
			var m ChatMessage
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			msgs = append(msgs, m)
		}
		return nil
	})
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, more, err
}

// SetRead marks a room read up to seq for an account (never backwards).
func (s *Store) SetRead(account, room string, seq uint64) error {
	return s.batch(func(t *Tx) error {
		k := []byte(account + "\x00" + room)
		if v := t.bucket(bucketChatRead).Get(k); v != nil && binary.BigEndian.Uint64(v) >= seq {
			return nil
		}
		return t.bucket(bucketChatRead).Put(k, u64(seq))
	})
}

// Unread counts messages of others after the account's read mark, up to
// max (a badge shows "max+").
func (s *Store) Unread(account, room string, max int) (int, error) {
	n := 0
	err := s.view(func(t *Tx) error {
		var read uint64
		if v := t.bucket(bucketChatRead).Get([]byte(account + "\x00" + room)); v != nil {
			read = binary.BigEndian.Uint64(v)
		}
		p := roomPrefix(room)
		c := t.bucket(bucketChatMsgs).Cursor()
		for k, v := c.Seek(chatKey(room, read+1)); k != nil && bytes.HasPrefix(k, p) && n < max; k, v = c.Next() {
			var m ChatMessage
			if json.Unmarshal(v, &m) == nil && m.Author != account && !m.Deleted {
				n++
			}
		}
		return nil
	})
	return n, err
}

// DirectRoomsOf lists the direct rooms an account is in.
func (s *Store) DirectRoomsOf(account string) ([]string, error) {
	var out []string
	err := s.view(func(t *Tx) error {
		p := []byte(account + "\x00")
		c := t.bucket(bucketChatDirect).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			out = append(out, string(k[len(p):]))
		}
		return nil
	})
	return out, err
}

// ChatHit is one search result with the messages around it.
type ChatHit struct {
	Room    string       `json:"room"`
	Message ChatMessage  `json:"message"`
	Before  *ChatMessage `json:"before,omitempty"`
	After   *ChatMessage `json:"after,omitempty"`
}

// SearchChat finds messages containing q (case-insensitive) in the given
// rooms, newest first, at most limit, scanning at most scanMax messages.
func (s *Store) SearchChat(rooms []string, q string, limit, scanMax int) ([]ChatHit, error) {
	q = strings.ToLower(q)
	var hits []ChatHit
	err := s.view(func(t *Tx) error {
		scanned := 0
		for _, room := range rooms {
			p := roomPrefix(room)
			c := t.bucket(bucketChatMsgs).Cursor()
			var prev *ChatMessage
			var pending *ChatHit
			for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
				scanned++
				if scanned > scanMax {
					break
				}
				var m ChatMessage
				if json.Unmarshal(v, &m) != nil || m.Deleted {
					continue
				}
				if pending != nil {
					mm := m
					pending.After = &mm
					hits = append(hits, *pending)
					pending = nil
				}
				if strings.Contains(strings.ToLower(m.Text), q) {
					pending = &ChatHit{Room: room, Message: m, Before: prev}
				}
				mm := m
				prev = &mm
			}
			if pending != nil {
				hits = append(hits, *pending)
			}
		}
		return nil
	})
	// newest first, bounded
	for i, j := 0, len(hits)-1; i < j; i, j = i+1, j-1 {
		hits[i], hits[j] = hits[j], hits[i]
	}
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, err
}
