package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Forums: one per group ("g:<group>", whose readers are the group's
// members and teachers, read at every access) and school-wide ones an
// admin creates ("s:<slug>"). Threads and posts have IDs of their own,
// unique over all forums, so a post or thread ID says which forum it
// belongs to and a request that names another forum is caught
// (FORUM-MOD-SCOPE). A deleted post stays as a tombstone with the reason.
//
//	forums        forum ID → Forum (title, named moderators, counters)
//	forumthreads  thread ID (8 bytes BE) → ForumThread
//	forumlist     forum 0x00 last activity (8 bytes BE unix nanos) thread
//	              ID (8 bytes BE) → "": a forum's threads, latest first
//	forumposts    thread ID (8 bytes BE) post ID (8 bytes BE) → ForumPost
//	forumpostidx  post ID (8 bytes BE) → thread ID (8 bytes BE)
//	forumread     account 0x00 thread ID (8 bytes BE) → post ID read up to

var (
	bucketForums       = []byte("forums")
	bucketForumThreads = []byte("forumthreads")
	bucketForumList    = []byte("forumlist")
	bucketForumPosts   = []byte("forumposts")
	bucketForumPostIdx = []byte("forumpostidx")
	bucketForumRead    = []byte("forumread")
)

func init() {
	buckets = append(buckets, bucketForums, bucketForumThreads, bucketForumList, bucketForumPosts, bucketForumPostIdx, bucketForumRead)
}

// Forum is one forum. A group's forum has a record only once something
// was posted or a moderator named.
type Forum struct {
	ID         string    `json:"id"`
	Title      string    `json:"title,omitempty"` // school-wide: its title; group: the group name
	Group      string    `json:"group,omitempty"`
	Moderators []string  `json:"moderators,omitempty"` // named moderators, sorted
	Created    time.Time `json:"created"`
	CreatedBy  string    `json:"created_by,omitempty"`
	Threads    int       `json:"threads"`
}

// SchoolWide reports a forum an admin created for everyone.
func (f *Forum) SchoolWide() bool { return f.Group == "" }

// IsNamedModerator reports a moderator named for this forum.
func (f *Forum) IsNamedModerator(name string) bool {
	_, ok := slices.BinarySearch(f.Moderators, name)
	return ok
}

// ForumThread is one thread; its first post is the opening text.
type ForumThread struct {
	ID         uint64    `json:"id"`
	Forum      string    `json:"forum"`
	Title      string    `json:"title"`
	Author     string    `json:"author"`
	Created    time.Time `json:"created"`
	Posts      int       `json:"posts"`
	LastPost   uint64    `json:"last_post"`
	LastTime   time.Time `json:"last_time"`
	LastAuthor string    `json:"last_author,omitempty"`
	Locked     bool      `json:"locked,omitempty"`
	LockedBy   string    `json:"locked_by,omitempty"`
}

// ForumPost is one post. Deleted: a tombstone (no text) with the
// moderator's reason; Hidden: kept, shown to moderators only.
type ForumPost struct {
	ID      uint64    `json:"id"`
	Thread  uint64    `json:"thread"`
	Forum   string    `json:"forum"`
	Author  string    `json:"author"`
	Text    string    `json:"text,omitempty"`
	Quote   uint64    `json:"quote,omitempty"` // the post it quotes (same thread), shown as it is now
	Time    time.Time `json:"time"`
	Deleted bool      `json:"deleted,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Hidden  bool      `json:"hidden,omitempty"`
	ModBy   string    `json:"mod_by,omitempty"` // the moderator of the last action
	ModAt   time.Time `json:"mod_at,omitzero"`
}

// GroupForumID and SchoolForumID name forums.
func GroupForumID(group string) string { return "g:" + group }
func SchoolForumID(slug string) string { return "s:" + slug }

// ParseForumID splits a forum ID into its kind ("group", "school") and name.
func ParseForumID(id string) (kind, name string, ok bool) {
	switch {
	case strings.HasPrefix(id, "g:") && len(id) > 2:
		return "group", id[2:], true
	case strings.HasPrefix(id, "s:") && len(id) > 2:
		return "school", id[2:], true
	}
	return "", "", false
}

func forumListKey(forum string, at time.Time, thread uint64) []byte {
	k := append([]byte(forum), 0)
	k = binary.BigEndian.AppendUint64(k, uint64(at.UnixNano()))
	return binary.BigEndian.AppendUint64(k, thread)
}

func forumPostKey(thread, post uint64) []byte {
	return binary.BigEndian.AppendUint64(u64(thread), post)
}

// Forum returns a forum; a group's forum exists while its group does.
func (t *Tx) Forum(id string) (*Forum, error) {
	if v := t.bucket(bucketForums).Get([]byte(id)); v != nil {
		var f Forum
		return &f, json.Unmarshal(v, &f)
	}
	kind, name, ok := ParseForumID(id)
	if ok && kind == "group" {
		if g, err := t.Group(name); err == nil {
			return &Forum{ID: id, Title: g.Name, Group: g.Name, Created: g.CreatedAt}, nil
		}
	}
	return nil, fmt.Errorf("forum %q: %w", id, ErrNotFound)
}

// Forum is Tx.Forum in a read transaction of its own.
func (s *Store) Forum(id string) (*Forum, error) {
	var f *Forum
	err := s.view(func(t *Tx) error {
		var err error
		f, err = t.Forum(id)
		return err
	})
	return f, err
}

func (t *Tx) putForum(f *Forum) error {
	v, _ := json.Marshal(f)
	return t.bucket(bucketForums).Put([]byte(f.ID), v)
}

// CreateForum stores a school-wide forum (audited).
func (s *Store) CreateForum(slug, title, actor string, at time.Time) (*Forum, error) {
	f := &Forum{ID: SchoolForumID(slug), Title: title, Created: at, CreatedBy: actor}
	err := s.update(func(t *Tx) error {
		if t.bucket(bucketForums).Get([]byte(f.ID)) != nil {
			return fmt.Errorf("forum %q: %w", f.ID, ErrExists)
		}
		if err := t.putForum(f); err != nil {
			return err
		}
		return t.Audit(AuditRecord{Time: at, Actor: actor, Action: "forum.create", Target: f.ID, Detail: title})
	})
	return f, err
}

// Forums lists the forums with a record (school-wide ones, and group
// forums that were used or have named moderators), by ID.
func (s *Store) Forums() ([]Forum, error) {
	var out []Forum
	err := s.view(func(t *Tx) error {
		return t.bucket(bucketForums).ForEach(func(k, v []byte) error {
			var f Forum
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			out = append(out, f)
			return nil
		})
	})
	return out, err
}

// SetForumModerator names (add) or removes a moderator of a forum,
// audited in the same transaction. check sees the account first.
func (s *Store) SetForumModerator(id, name string, add bool, actor string, at time.Time, check func(*Tx, *Account) error) error {
	return s.update(func(t *Tx) error {
		f, err := t.Forum(id)
		if err != nil {
			return err
		}
		a, err := t.Account(name)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(t, a); err != nil {
				return err
			}
		}
		i, found := slices.BinarySearch(f.Moderators, name)
		action := "forum.moderator.add"
		switch {
		case add && found, !add && !found:
			return nil // nothing changes, nothing to record
		case add:
			f.Moderators = slices.Insert(f.Moderators, i, name)
		default:
			f.Moderators = slices.Delete(f.Moderators, i, i+1)
			action = "forum.moderator.remove"
		}
		if err := t.putForum(f); err != nil {
			return err
		}
		return t.Audit(AuditRecord{Time: at, Actor: actor, Action: action, Target: id, Detail: name})
	})
}

// ForumThread returns one thread.
func (t *Tx) ForumThread(id uint64) (*ForumThread, error) {
	v := t.bucket(bucketForumThreads).Get(u64(id))
	if v == nil {
		return nil, fmt.Errorf("thread %d: %w", id, ErrNotFound)
	}
	var th ForumThread
	return &th, json.Unmarshal(v, &th)
}

func (t *Tx) putThread(th *ForumThread) error {
	v, _ := json.Marshal(th)
	return t.bucket(bucketForumThreads).Put(u64(th.ID), v)
}

// ForumPost returns one post by its ID, wherever it is.
func (t *Tx) ForumPost(id uint64) (*ForumPost, error) {
	th := t.bucket(bucketForumPostIdx).Get(u64(id))
	if th == nil {
		return nil, fmt.Errorf("post %d: %w", id, ErrNotFound)
	}
	v := t.bucket(bucketForumPosts).Get(forumPostKey(binary.BigEndian.Uint64(th), id))
	if v == nil {
		return nil, fmt.Errorf("post %d: %w", id, ErrNotFound)
	}
	var p ForumPost
	return &p, json.Unmarshal(v, &p)
}

func (t *Tx) putPost(p *ForumPost) error {
	v, _ := json.Marshal(p)
	if err := t.bucket(bucketForumPostIdx).Put(u64(p.ID), u64(p.Thread)); err != nil {
		return err
	}
	return t.bucket(bucketForumPosts).Put(forumPostKey(p.Thread, p.ID), v)
}

// addPost appends a post to a thread and moves the thread to the top of
// its forum's list.
func (t *Tx) addPost(th *ForumThread, author, text string, quote uint64, at time.Time) (*ForumPost, error) {
	id, err := t.bucket(bucketForumPostIdx).NextSequence()
	if err != nil {
		return nil, err
	}
	p := &ForumPost{ID: id, Thread: th.ID, Forum: th.Forum, Author: author, Text: text, Quote: quote, Time: at}
	if err := t.putPost(p); err != nil {
		return nil, err
	}
	if th.Posts > 0 {
		if err := t.bucket(bucketForumList).Delete(forumListKey(th.Forum, th.LastTime, th.ID)); err != nil {
			return nil, err
		}
	}
	th.Posts++
	th.LastPost, th.LastTime, th.LastAuthor = id, at, author
	if err := t.bucket(bucketForumList).Put(forumListKey(th.Forum, at, th.ID), nil); err != nil {
		return nil, err
	}
	return p, t.putThread(th)
}

// NewThread opens a thread with its first post. check runs in the
// transaction with the forum (membership re-read there).
func (s *Store) NewThread(forum, author, title, text string, at time.Time, check func(*Tx, *Forum) error) (ForumThread, ForumPost, error) {
	var th ForumThread
	var p ForumPost
	err := s.batch(func(t *Tx) error { // concurrent posts share one fsync
		f, err := t.Forum(forum)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(t, f); err != nil {
				return err
			}
		}
		id, err := t.bucket(bucketForumThreads).NextSequence()
		if err != nil {
			return err
		}
		th = ForumThread{ID: id, Forum: forum, Title: title, Author: author, Created: at}
		np, err := t.addPost(&th, author, text, 0, at)
		if err != nil {
			return err
		}
		p = *np
		f.Threads++
		return t.putForum(f)
	})
	return th, p, err
}

// Reply adds a post to a thread of forum. A thread of another forum is
// not found here, whatever its ID: the forum named is the one checked.
// quote, if not 0, must be a post of the same thread.
func (s *Store) Reply(forum string, thread uint64, author, text string, quote uint64, at time.Time, check func(*Tx, *Forum, *ForumThread) error) (ForumPost, error) {
	var out ForumPost
	err := s.batch(func(t *Tx) error {
		th, err := t.ForumThread(thread)
		if err != nil {
			return err
		}
		if th.Forum != forum {
			return fmt.Errorf("thread %d in forum %q: %w", thread, forum, ErrNotFound)
		}
		f, err := t.Forum(forum)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(t, f, th); err != nil {
				return err
			}
		}
		if quote != 0 {
			q, err := t.ForumPost(quote)
			if err != nil || q.Thread != thread {
				return fmt.Errorf("quoted post %d in thread %d: %w", quote, thread, ErrNotFound)
			}
		}
		p, err := t.addPost(th, author, text, quote, at)
		if err != nil {
			return err
		}
		out = *p
		return nil
	})
	return out, err
}

// ForumThreads returns a page of a forum's threads, latest activity
// first, skipping skip, at most limit.
func (s *Store) ForumThreads(forum string, skip, limit int) ([]ForumThread, error) {
	var out []ForumThread
	err := s.view(func(t *Tx) error {
		p := append([]byte(forum), 0)
		c := t.bucket(bucketForumList).Cursor()
		// seek past the prefix, then walk backwards
		end := append(append([]byte(nil), p[:len(p)-1]...), 1)
		k, _ := c.Seek(end)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for n := 0; k != nil && bytes.HasPrefix(k, p) && len(out) < limit; k, _ = c.Prev() {
			if n < skip {
				n++
				continue
			}
			th, err := t.ForumThread(binary.BigEndian.Uint64(k[len(k)-8:]))
			if err != nil {
				return err
			}
			out = append(out, *th)
		}
		return nil
	})
	return out, err
}

// ForumThread is Tx.ForumThread in a read transaction of its own.
func (s *Store) ForumThread(id uint64) (*ForumThread, error) {
	var th *ForumThread
	err := s.view(func(t *Tx) error {
		var err error
		th, err = t.ForumThread(id)
		return err
	})
	return th, err
}

// ForumPost is Tx.ForumPost in a read transaction of its own.
func (s *Store) ForumPost(id uint64) (*ForumPost, error) {
	var p *ForumPost
	err := s.view(func(t *Tx) error {
		var err error
		p, err = t.ForumPost(id)
		return err
	})
	return p, err
}

// ThreadPosts returns a page of a thread's posts, oldest first, and the
// posts they quote (by ID) as they are now.
func (s *Store) ThreadPosts(thread uint64, skip, limit int) (posts []ForumPost, quoted map[uint64]ForumPost, err error) {
	quoted = map[uint64]ForumPost{}
	err = s.view(func(t *Tx) error {
		p := u64(thread)
		c := t.bucket(bucketForumPosts).Cursor()
		n := 0
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(posts) < limit; k, v = c.Next() {
			if n < skip {
				n++
				continue
			}
			var fp ForumPost
			if err := json.Unmarshal(v, &fp); err != nil {
				return err
			}
			posts = append(posts, fp)
		}
		for _, fp := range posts {
			if fp.Quote != 0 {
				if q, err := t.ForumPost(fp.Quote); err == nil {
					quoted[q.ID] = *q
				}
			}
		}
		return nil
	})
	return posts, quoted, err
}

// MarkThreadRead marks a thread read up to post for an account (never
// backwards).
func (s *Store) MarkThreadRead(account string, thread, post uint64) error {
	return s.batch(func(t *Tx) error {
		k := binary.BigEndian.AppendUint64([]byte(account+"\x00"), thread)
		if v := t.bucket(bucketForumRead).Get(k); v != nil && binary.BigEndian.Uint64(v) >= post {
			return nil
		}
		return t.bucket(bucketForumRead).Put(k, u64(post))
	})
}

// ThreadReadMarks returns the account's read marks of the threads (0: never read).
func (s *Store) ThreadReadMarks(account string, threads []uint64) (map[uint64]uint64, error) {
	out := make(map[uint64]uint64, len(threads))
	err := s.view(func(t *Tx) error {
		b := t.bucket(bucketForumRead)
		for _, th := range threads {
			if v := b.Get(binary.BigEndian.AppendUint64([]byte(account+"\x00"), th)); v != nil {
				out[th] = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return out, err
}

// ForumModeration is one moderation action for Moderate.
type ForumModeration struct {
	Forum  string // the forum the request names
	Act    string // delete, hide, unhide (ID a post), lock, unlock (ID a thread)
	ID     uint64
	Actor  string
	Reason string
	At     time.Time
	// Check decides with the item's real forum (FORUM-MOD-SCOPE); it runs
	// in the transaction that acts.
	Check func(t *Tx, named *Forum, itemForum string) error
	// Notice, if set, is delivered to the author's INBOX in the same
	// transaction (the author is told).
	Notice *NewMessage
}

// ForumModerated is what Moderate did.
type ForumModerated struct {
	Post   *ForumPost
	Thread *ForumThread
	Author string // who was told ("" if nobody: erased or own action)
}

// Moderate applies one moderation action: the check, the change, its
// audit record and the notice to the author commit together.
func (s *Store) Moderate(m ForumModeration) (ForumModerated, error) {
	var out ForumModerated
	err := s.update(func(t *Tx) error {
		out = ForumModerated{}
		named, err := t.Forum(m.Forum)
		if err != nil {
			return err
		}
		var itemForum, author, target string
		var post *ForumPost
		var th *ForumThread
		switch m.Act {
		case "lock", "unlock":
			if th, err = t.ForumThread(m.ID); err == nil {
				itemForum, author = th.Forum, th.Author
			}
			target = fmt.Sprintf("%s thread %d", m.Forum, m.ID)
		default:
			if post, err = t.ForumPost(m.ID); err == nil {
				itemForum, author = post.Forum, post.Author
			}
			target = fmt.Sprintf("%s post %d", m.Forum, m.ID)
		}
		if err := m.Check(t, named, itemForum); err != nil {
			return err
		}
		if itemForum == "" {
			return fmt.Errorf("%s: %w", target, ErrNotFound)
		}
		switch m.Act {
		case "lock", "unlock":
			th.Locked = m.Act == "lock"
			th.LockedBy = ""
			if th.Locked {
				th.LockedBy = m.Actor
			}
			if err := t.putThread(th); err != nil {
				return err
			}
			out.Thread = th
		case "delete":
			if post.Deleted {
				return fmt.Errorf("%s: %w", target, ErrNotFound)
			}
			post.Text, post.Deleted, post.Reason, post.Hidden = "", true, m.Reason, false
		case "hide", "unhide":
			if post.Deleted {
				return fmt.Errorf("%s: %w", target, ErrNotFound)
			}
			post.Hidden, post.Reason = m.Act == "hide", m.Reason
		default:
			return fmt.Errorf("moderation %q: %w", m.Act, ErrNotFound)
		}
		if post != nil {
			post.ModBy, post.ModAt = m.Actor, m.At
			if err := t.putPost(post); err != nil {
				return err
			}
			out.Post = post
		}
		detail := fmt.Sprintf("%s, author %s", m.Act, author)
		if m.Reason != "" {
			detail += ", reason: " + m.Reason
		}
		if m.Notice != nil && author != "" && author != m.Actor {
			if got, err := t.DeliverNotice(author, *m.Notice); err == nil {
				out.Author = author
				detail += fmt.Sprintf(", author told (INBOX uid %d)", got.UID)
			} else if !isNotFound(err) {
				return err
			}
		}
		return t.Audit(AuditRecord{Time: m.At, Actor: m.Actor, Action: "forum." + m.Act, Target: target, Detail: detail})
	})
	return out, err
}

// ForumHit is one search result.
type ForumHit struct {
	Post   ForumPost
	Thread ForumThread
}

// SearchForums finds posts containing q (case-insensitive) in the given
// forums, threads in the order of their last activity (oldest first), at most limit, scanning at
// most scanMax posts. Deleted and hidden posts are not found.
func (s *Store) SearchForums(forums []string, q string, limit, scanMax int) ([]ForumHit, error) {
	q = strings.ToLower(q)
	var hits []ForumHit
	err := s.view(func(t *Tx) error {
		scanned := 0
		for _, forum := range forums {
			p := append([]byte(forum), 0)
			lc := t.bucket(bucketForumList).Cursor()
			for k, _ := lc.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = lc.Next() {
				th, err := t.ForumThread(binary.BigEndian.Uint64(k[len(k)-8:]))
				if err != nil {
					return err
				}
				titleHit := strings.Contains(strings.ToLower(th.Title), q)
				tp := u64(th.ID)
				c := t.bucket(bucketForumPosts).Cursor()
				for pk, v := c.Seek(tp); pk != nil && bytes.HasPrefix(pk, tp); pk, v = c.Next() {
					if scanned++; scanned > scanMax || len(hits) >= limit {
						return nil
					}
					var fp ForumPost
					if json.Unmarshal(v, &fp) != nil || fp.Deleted || fp.Hidden {
						continue
					}
					if titleHit || strings.Contains(strings.ToLower(fp.Text), q) {
						hits = append(hits, ForumHit{Post: fp, Thread: *th})
						titleHit = false
					}
				}
			}
		}
		return nil
	})
	return hits, err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
