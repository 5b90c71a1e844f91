package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Group calendars. Every group has one calendar; its entries are the
// group's organisation data. "Nicht manipuliert" (Nutzungsordnung,
// Kommunikation): an entry is never changed in place without a trace:
// every create, edit and delete appends a revision with who and when, and
// the revisions are shown beside the entry. A deleted entry stays as a
// tombstone so its history can still be read.
//
//	calendars   group → CalendarInfo (settings, change counter, live count,
//	            the hash of the subscription token)
//	calentries  group 0x00 uid → CalEntry (the current state)
//	calrevs     group 0x00 uid 0x00 rev (8 bytes BE) → CalRevision
//	calfeeds    SHA-256 of a subscription token (hex) → group

var (
	bucketCalendars  = []byte("calendars")
	bucketCalEntries = []byte("calentries")
	bucketCalRevs    = []byte("calrevs")
	bucketCalFeeds   = []byte("calfeeds")
)

func init() {
	buckets = append(buckets, bucketCalendars, bucketCalEntries, bucketCalRevs, bucketCalFeeds)
}

var (
	// ErrPrecondition: an If-Match or If-None-Match did not hold.
	ErrPrecondition = errors.New("precondition failed")
	// ErrCalendarFull: the calendar has as many entries as its bound.
	ErrCalendarFull = errors.New("calendar full")
	// ErrRevisionsFull: the entry has as many revisions as its bound
	// (they are never dropped, so it takes no more changes).
	ErrRevisionsFull = errors.New("calendar entry has too many revisions")
)

// CalendarInfo is one group's calendar.
type CalendarInfo struct {
	Group string `json:"group"`
	// MembersWrite: the group lets its members (not only its teachers)
	// create and change entries.
	MembersWrite bool      `json:"members_write,omitempty"`
	Seq          uint64    `json:"seq"`     // changes so far (the CalDAV CTag)
	Entries      int       `json:"entries"` // live entries (not deleted)
	FeedHash     string    `json:"feed_hash,omitempty"`
	FeedCreated  time.Time `json:"feed_created,omitzero"`
}

// CalFields are the parts of an entry the portal shows and the history
// keeps, besides the iCalendar text itself.
type CalFields struct {
	Title       string    `json:"title"`
	Location    string    `json:"location,omitempty"`
	Description string    `json:"description,omitempty"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	AllDay      bool      `json:"all_day,omitempty"`
	// Recurring: the entry repeats (RRULE/RDATE); Start and End are its
	// first occurrence.
	Recurring bool `json:"recurring,omitempty"`
	// ICS is the sanitized iCalendar object (one VCALENDAR).
	ICS string `json:"ics"`
}

// CalEntry is the current state of one entry.
type CalEntry struct {
	UID string `json:"uid"`
	CalFields
	Rev       uint64    `json:"rev"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	ChangedBy string    `json:"changed_by"`
	Changed   time.Time `json:"changed"`
	Deleted   bool      `json:"deleted,omitempty"`
}

// ETag is the entity tag of the entry's current iCalendar text.
func (e *CalEntry) ETag() string {
	h := sha256.Sum256([]byte(e.ICS))
	return fmt.Sprintf("%d-%s", e.Rev, hex.EncodeToString(h[:8]))
}

// Revision actions.
const (
	CalCreated = "created"
	CalEdited  = "edited"
	CalDeleted = "deleted"
)

// CalRevision is one step of an entry's history, with the state after it.
type CalRevision struct {
	Rev    uint64    `json:"rev"`
	Action string    `json:"action"` // CalCreated, CalEdited, CalDeleted
	By     string    `json:"by"`
	Time   time.Time `json:"time"`
	CalFields
}

func calKey(group, uid string) []byte {
	k := make([]byte, 0, len(group)+1+len(uid))
	k = append(k, group...)
	k = append(k, 0)
	return append(k, uid...)
}

func calRevKey(group, uid string, rev uint64) []byte {
	k := append(calKey(group, uid), 0)
	return binary.BigEndian.AppendUint64(k, rev)
}

func (t *Tx) calendar(group string) (*CalendarInfo, error) {
	c := &CalendarInfo{Group: group}
	if v := t.bucket(bucketCalendars).Get([]byte(group)); v != nil {
		if err := json.Unmarshal(v, c); err != nil {
			return nil, fmt.Errorf("calendar %q: %w", group, err)
		}
	}
	return c, nil
}

func (t *Tx) putCalendar(c *CalendarInfo) error {
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return t.bucket(bucketCalendars).Put([]byte(c.Group), v)
}

// Calendar returns a group's calendar (its zero state if nothing was ever
// written). The group itself must exist.
func (s *Store) Calendar(group string) (*CalendarInfo, error) {
	var c *CalendarInfo
	err := s.view(func(t *Tx) error {
		if _, err := t.Group(group); err != nil {
			return err
		}
		var err error
		c, err = t.calendar(group)
		return err
	})
	return c, err
}

// SetCalendarMembersWrite sets whether a group's members may write in its
// calendar.
func (s *Store) SetCalendarMembersWrite(group string, on bool) error {
	return s.update(func(t *Tx) error {
		if _, err := t.Group(group); err != nil {
			return err
		}
		c, err := t.calendar(group)
		if err != nil {
			return err
		}
		c.MembersWrite = on
		c.Seq++
		return t.putCalendar(c)
	})
}

func (t *Tx) calEntry(group, uid string) (*CalEntry, error) {
	v := t.bucket(bucketCalEntries).Get(calKey(group, uid))
	if v == nil {
		return nil, fmt.Errorf("calendar entry %q: %w", uid, ErrNotFound)
	}
	var e CalEntry
	return &e, json.Unmarshal(v, &e)
}

// CalendarEntry returns one entry, a deleted one too (Deleted set).
func (s *Store) CalendarEntry(group, uid string) (*CalEntry, error) {
	var e *CalEntry
	err := s.view(func(t *Tx) error {
		var err error
		e, err = t.calEntry(group, uid)
		return err
	})
	return e, err
}

// CalPut is one create or edit.
type CalPut struct {
	Group, UID string
	Fields     CalFields
	By         string
	Time       time.Time
	// IfMatch, if set, must be the entry's current ETag ("*": it must
	// exist); IfNoneMatch refuses to overwrite a live entry.
	IfMatch     string
	IfNoneMatch bool
	// MaxEntries is the bound on live entries (calendar_entries_per_group).
	MaxEntries int
	// MaxRevisions bounds the revisions of one entry (0: none).
	MaxRevisions uint64
}

// PutCalendarEntry creates or changes an entry and appends its revision,
// in one transaction. It returns the new state and whether it was created
// (a deleted entry written again counts as created: it comes back to life
// with its history).
func (s *Store) PutCalendarEntry(p CalPut) (*CalEntry, bool, error) {
	var out *CalEntry
	var created bool
	err := s.update(func(t *Tx) error {
		if _, err := t.Group(p.Group); err != nil {
			return err
		}
		c, err := t.calendar(p.Group)
		if err != nil {
			return err
		}
		cur, err := t.calEntry(p.Group, p.UID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		live := cur != nil && !cur.Deleted
		if p.IfNoneMatch && live {
			return ErrPrecondition
		}
		if p.IfMatch != "" && (!live || (p.IfMatch != "*" && p.IfMatch != cur.ETag())) {
			return ErrPrecondition
		}
		if cur != nil && p.MaxRevisions > 0 && cur.Rev >= p.MaxRevisions {
			return ErrRevisionsFull
		}
		e := cur
		action := CalEdited
		if !live {
			if p.MaxEntries > 0 && c.Entries >= p.MaxEntries {
				return ErrCalendarFull
			}
			c.Entries++
			action = CalCreated
			created = true
			if e == nil {
				e = &CalEntry{UID: p.UID}
			}
			e.CreatedBy, e.Created, e.Deleted = p.By, p.Time, false
		}
		e.CalFields = p.Fields
		e.Rev++
		e.ChangedBy, e.Changed = p.By, p.Time
		c.Seq++
		if err := t.putCalendar(c); err != nil {
			return err
		}
		out = e
		return t.putCalEntry(p.Group, e, action)
	})
	return out, created, err
}

// putCalEntry writes the entry and its revision number e.Rev.
func (t *Tx) putCalEntry(group string, e *CalEntry, action string) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := t.bucket(bucketCalEntries).Put(calKey(group, e.UID), v); err != nil {
		return err
	}
	rv, err := json.Marshal(CalRevision{Rev: e.Rev, Action: action, By: e.ChangedBy, Time: e.Changed, CalFields: e.CalFields})
	if err != nil {
		return err
	}
	return t.bucket(bucketCalRevs).Put(calRevKey(group, e.UID, e.Rev), rv)
}

// DeleteCalendarEntry marks an entry deleted (a tombstone with its
// history) and appends the deleting revision.
func (s *Store) DeleteCalendarEntry(group, uid, by string, now time.Time, ifMatch string) error {
	// A delete always goes through, even past MaxRevisions: one more
	// revision per entry at most (a deleted entry takes no edits without
	// a create, which the bound refuses).
	return s.update(func(t *Tx) error {
		e, err := t.calEntry(group, uid)
		if err != nil {
			return err
		}
		if e.Deleted {
			return fmt.Errorf("calendar entry %q: %w", uid, ErrNotFound)
		}
		if ifMatch != "" && ifMatch != "*" && ifMatch != e.ETag() {
			return ErrPrecondition
		}
		c, err := t.calendar(group)
		if err != nil {
			return err
		}
		c.Entries--
		c.Seq++
		if err := t.putCalendar(c); err != nil {
			return err
		}
		e.Deleted = true
		e.Rev++
		e.ChangedBy, e.Changed = by, now
		return t.putCalEntry(group, e, CalDeleted)
	})
}

// CalendarEntries returns a group's live entries that overlap [from, to)
// (recurring ones always: the caller expands them); zero times: all.
func (s *Store) CalendarEntries(group string, from, to time.Time) ([]CalEntry, error) {
	var out []CalEntry
	err := s.view(func(t *Tx) error {
		p := append([]byte(group), 0)
		c := t.bucket(bucketCalEntries).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var e CalEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("calendar entry %q: %w", k, err)
			}
			if e.Deleted {
				continue
			}
			if !e.Recurring && !from.IsZero() && (!e.End.After(from) || !e.Start.Before(to)) {
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// CalendarRevisions returns an entry's history, oldest first.
func (s *Store) CalendarRevisions(group, uid string) ([]CalRevision, error) {
	var out []CalRevision
	err := s.view(func(t *Tx) error {
		p := append(calKey(group, uid), 0)
		c := t.bucket(bucketCalRevs).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if len(k) != len(p)+8 {
				continue // another uid that starts with this one and a 0 byte
			}
			var r CalRevision
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// FeedTokenHash is the key a subscription token is stored under: the
// token itself is never stored.
func FeedTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// SetCalendarFeed makes token the group's subscription token; an older
// one stops working in the same transaction. An empty token revokes.
func (s *Store) SetCalendarFeed(group, token string, now time.Time) error {
	return s.update(func(t *Tx) error { return t.SetCalendarFeed(group, token, now) })
}

// SetCalendarFeed is the store function inside a transaction (the admin
// CLI audits in the same one).
func (t *Tx) SetCalendarFeed(group, token string, now time.Time) error {
	if _, err := t.Group(group); err != nil {
		return err
	}
	c, err := t.calendar(group)
	if err != nil {
		return err
	}
	if c.FeedHash != "" {
		if err := t.bucket(bucketCalFeeds).Delete([]byte(c.FeedHash)); err != nil {
			return err
		}
	}
	c.FeedHash, c.FeedCreated = "", time.Time{}
	if token != "" {
		c.FeedHash, c.FeedCreated = FeedTokenHash(token), now
		if err := t.bucket(bucketCalFeeds).Put([]byte(c.FeedHash), []byte(group)); err != nil {
			return err
		}
	}
	return t.putCalendar(c)
}

// CalendarFeedGroup returns the group whose subscription token this is.
func (s *Store) CalendarFeedGroup(token string) (string, error) {
	var g string
	err := s.view(func(t *Tx) error {
		v := t.bucket(bucketCalFeeds).Get([]byte(FeedTokenHash(token)))
		if v == nil {
			return fmt.Errorf("calendar feed: %w", ErrNotFound)
		}
		g = string(v)
		return nil
	})
	return g, err
}
