package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Reports ("Melden"): a reason and the messages around the reported one,
// frozen when the report is made, so what admins read is what was
// reported even if it is edited or deleted later. Reading a report's
// content is possible only through ReadReport, which writes an audit
// record in the same transaction (CHAT-READ-REPORTED).
//
//	chatreports  id (8 bytes BE) → ChatReport

var bucketChatReports = []byte("chatreports")

// ReportCreated is published when a report is made (Data: ReportSummary).
const ReportCreated EventKind = "chat.report"

func init() { buckets = append(buckets, bucketChatReports) }

// ChatReport is one report with its frozen context.
type ChatReport struct {
	ReportSummary
	Reason  string        `json:"reason"`
	Context []ChatMessage `json:"context"`
}

// ReportSummary is what the admins' list shows: no chat content.
type ReportSummary struct {
	ID       uint64    `json:"id"`
	Time     time.Time `json:"time"`
	Room     string    `json:"room"`
	Seq      uint64    `json:"seq"` // the reported message
	Reporter string    `json:"reporter"`
	Author   string    `json:"author"` // of the reported message
	Closed   bool      `json:"closed,omitempty"`
	ClosedBy string    `json:"closed_by,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	Note     string    `json:"note,omitempty"`
	// Forum reports (forum_reports.go): Room is "forum:<forum ID>", Seq
	// the post ID; the forum's moderators see it first, the admins once
	// it is escalated.
	Forum     string `json:"forum,omitempty"`
	Escalated bool   `json:"escalated,omitempty"`
}

// CreateReport freezes the message seq of room and up to around messages
// before and after it into a new report. check runs in the transaction.
func (s *Store) CreateReport(room string, seq uint64, reporter, reason string, around int, at time.Time, check func(*Tx) error) (uint64, error) {
	var id uint64
	err := s.update(func(t *Tx) error {
		if check != nil {
			if err := check(t); err != nil {
				return err
			}
		}
		m, err := t.ChatMessage(room, seq)
		if err != nil {
			return err
		}
		b := t.bucket(bucketChatReports)
		id, _ = b.NextSequence()
		r := ChatReport{Reason: reason}
		r.ReportSummary = ReportSummary{ID: id, Time: at, Room: room, Seq: seq, Reporter: reporter, Author: m.Author}
		lo := uint64(1)
		if seq > uint64(around) {
			lo = seq - uint64(around)
		}
		for q := lo; q <= seq+uint64(around); q++ {
			if cm, err := t.ChatMessage(room, q); err == nil {
				r.Context = append(r.Context, *cm)
			}
		}
		v, _ := json.Marshal(r)
		t.publish(Event{Kind: ReportCreated, Data: r.ReportSummary})
		return b.Put(u64(id), v)
	})
	return id, err
}

// Reports lists reports (newest first) without their content.
func (s *Store) Reports(includeClosed bool) ([]ReportSummary, error) {
	var out []ReportSummary
	err := s.view(func(t *Tx) error {
		c := t.bucket(bucketChatReports).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r ChatReport
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.Forum != "" && !r.Escalated {
				continue // still with the forum's moderators
			}
			if includeClosed || !r.Closed {
				out = append(out, r.ReportSummary)
			}
		}
		return nil
	})
	return out, err
}

// OpenReports counts reports not yet closed.
func (s *Store) OpenReports() (int, error) {
	l, err := s.Reports(false)
	return len(l), err
}

// ReadReport returns a report with its reason and context and records the
// read in the audit log in the same transaction: there is no read of
// reported content without its trace.
func (s *Store) ReadReport(id uint64, actor string) (*ChatReport, error) {
	var out *ChatReport
	err := s.update(func(t *Tx) error {
		r, err := t.report(id)
		if err != nil {
			return err
		}
		out = r
		return t.Audit(AuditRecord{Actor: actor, Action: "report.read", Target: fmt.Sprintf("report %d", id),
			Detail: fmt.Sprintf("room %s, message %d, author %s", r.Room, r.Seq, r.Author)})
	})
	return out, err
}

func (t *Tx) report(id uint64) (*ChatReport, error) {
	v := t.bucket(bucketChatReports).Get(u64(id))
	if v == nil {
		return nil, fmt.Errorf("report %d: %w", id, ErrNotFound)
	}
	var r ChatReport
	return &r, json.Unmarshal(v, &r)
}

// CloseReport marks a report handled, with a note, audited.
func (s *Store) CloseReport(id uint64, actor, note string, at time.Time) error {
	return s.update(func(t *Tx) error {
		r, err := t.report(id)
		if err != nil {
			return err
		}
		r.Closed, r.ClosedBy, r.ClosedAt, r.Note = true, actor, at, note
		v, _ := json.Marshal(r)
		if err := t.bucket(bucketChatReports).Put(u64(id), v); err != nil {
			return err
		}
		t.publish(Event{Kind: ReportCreated, Data: r.ReportSummary})
		return t.Audit(AuditRecord{Actor: actor, Action: "report.close", Target: fmt.Sprintf("report %d", id), Detail: note})
	})
}
