package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Forum reports ("Melden" on a post) share the chat's report queue and
// its frozen context: the reported post and the posts around it in its
// thread, as they were. They go to the forum's moderators first
// (ForumReports), who close them or pass them on (EscalateReport); only
// then do the admins' list and `schulhof report list` show them.

// ForumReportRoom is the Room of a forum report.
func ForumReportRoom(forum string) string { return "forum:" + forum }

// CreateForumReport freezes the post and up to around posts before and
// after it in its thread into a new report for the forum's moderators.
// The post must belong to forum; check runs in the transaction.
func (s *Store) CreateForumReport(forum string, post uint64, reporter, reason string, around int, at time.Time, check func(*Tx, *Forum) error) (uint64, error) {
	var id uint64
	err := s.update(func(t *Tx) error {
		p, err := t.ForumPost(post)
		if err != nil || p.Forum != forum {
			return fmt.Errorf("post %d in forum %q: %w", post, forum, ErrNotFound)
		}
		f, err := t.Forum(forum)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(t, f); err != nil {
				return err
			}
		}
		posts, _, err := threadAround(t, p.Thread, post, around)
		if err != nil {
			return err
		}
		b := t.bucket(bucketChatReports)
		id, _ = b.NextSequence()
		r := ChatReport{Reason: reason}
		r.ReportSummary = ReportSummary{ID: id, Time: at, Room: ForumReportRoom(forum), Seq: post,
			Reporter: reporter, Author: p.Author, Forum: forum}
		for _, q := range posts {
			r.Context = append(r.Context, ChatMessage{Seq: q.ID, Author: q.Author, Text: q.Text, Time: q.Time, Deleted: q.Deleted})
		}
		v, _ := json.Marshal(r)
		t.publish(Event{Kind: ReportCreated, Data: r.ReportSummary})
		return b.Put(u64(id), v)
	})
	return id, err
}

// threadAround returns the posts of a thread from around before post to
// around after it.
func threadAround(t *Tx, thread, post uint64, around int) ([]ForumPost, int, error) {
	var all []ForumPost
	at := -1
	p := u64(thread)
	c := t.bucket(bucketForumPosts).Cursor()
	for k, v := c.Seek(p); k != nil && hasPrefix(k, p); k, v = c.Next() {
		var fp ForumPost
		if err := json.Unmarshal(v, &fp); err != nil {
			return nil, 0, err
		}
		all = append(all, fp)
		if fp.ID == post {
			at = len(all) - 1
		} else if at >= 0 && len(all)-1-at >= around {
			break
		}
	}
	if at < 0 {
		return nil, 0, fmt.Errorf("post %d: %w", post, ErrNotFound)
	}
	lo := max(0, at-around)
	return all[lo:], at - lo, nil
}

// ForumReports lists the reports of the given forums (newest first),
// without content: what a moderator's list shows.
func (s *Store) ForumReports(forums map[string]bool, includeClosed bool) ([]ReportSummary, error) {
	var out []ReportSummary
	err := s.view(func(t *Tx) error {
		c := t.bucket(bucketChatReports).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r ChatReport
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.Forum != "" && forums[r.Forum] && (includeClosed || !r.Closed) {
				out = append(out, r.ReportSummary)
			}
		}
		return nil
	})
	return out, err
}

// ReportSummaryOf returns a report's summary without reading its content
// (no audit record: it holds no post text).
func (s *Store) ReportSummaryOf(id uint64) (*ReportSummary, error) {
	var out *ReportSummary
	err := s.view(func(t *Tx) error {
		r, err := t.report(id)
		if err == nil {
			out = &r.ReportSummary
		}
		return err
	})
	return out, err
}

// EscalateReport passes a forum report on to the admins (audited).
func (s *Store) EscalateReport(id uint64, actor, note string, at time.Time) error {
	return s.update(func(t *Tx) error {
		r, err := t.report(id)
		if err != nil {
			return err
		}
		if r.Forum == "" || r.Closed {
			return fmt.Errorf("report %d: %w", id, ErrNotFound)
		}
		r.Escalated, r.Note = true, note
		v, _ := json.Marshal(r)
		if err := t.bucket(bucketChatReports).Put(u64(id), v); err != nil {
			return err
		}
		t.publish(Event{Kind: ReportCreated, Data: r.ReportSummary})
		return t.Audit(AuditRecord{Time: at, Actor: actor, Action: "report.escalate", Target: fmt.Sprintf("report %d", id), Detail: note})
	})
}
