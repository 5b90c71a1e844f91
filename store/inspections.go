package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Inspections ("Inaugenscheinnahme", AUDIT-INSPECT): requests by one
// auditor to look at a person's login log, mail or chat, approved by a
// second. The decisions are policy's (policy/inspect.go); the store keeps
// the requests and delivers the notice to the person in the same
// transaction as the approval, so no view opens without it.
//
//	inspections  id (8 bytes BE, from 1) → Inspection

var bucketInspections = []byte("inspections")

func init() {
	buckets = append(buckets, bucketInspections)
	registerPrivacy(PrivacyProvider{
		Name: "inspections", Buckets: [][]byte{bucketInspections},
		Categories: []int{CategoryAutomatic},
		Keeps:      "Anträge auf Einsicht (Inaugenscheinnahme): betroffene Person, Umfang, Grund, Aktenzeichen, beantragt und genehmigt von",
		Retention:  "bis zur Löschung der betroffenen Person; die Schritte stehen im Audit-Protokoll",
		Erase:      eraseInspections,
	})
}

// Inspection is one request and its state.
type Inspection struct {
	ID          uint64    `json:"id"`
	Person      string    `json:"person"`
	Scope       string    `json:"scope"` // loginlog, mail, chat
	Reason      string    `json:"reason"`
	Case        string    `json:"case"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	ApprovedBy  string    `json:"approved_by,omitempty"`
	ApprovedAt  time.Time `json:"approved_at,omitzero"`
	Until       time.Time `json:"until,omitzero"` // end of the view
	Closed      bool      `json:"closed,omitempty"`
	// Notice says where the person's notice landed (INBOX UID).
	NoticeUID uint32 `json:"notice_uid,omitempty"`
}

// AddInspection stores a new request and sets its ID.
func (t *Tx) AddInspection(in *Inspection) error {
	b := t.bucket(bucketInspections)
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	in.ID = id
	return t.PutInspection(in)
}

// PutInspection stores a changed request.
func (t *Tx) PutInspection(in *Inspection) error {
	v, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return t.bucket(bucketInspections).Put(u64(in.ID), v)
}

// Inspection reads one request.
func (t *Tx) Inspection(id uint64) (*Inspection, error) {
	v := t.bucket(bucketInspections).Get(u64(id))
	if v == nil {
		return nil, fmt.Errorf("inspection %d: %w", id, ErrNotFound)
	}
	var in Inspection
	return &in, json.Unmarshal(v, &in)
}

// Inspections lists every request, newest first.
func (s *Store) Inspections() ([]Inspection, error) {
	var out []Inspection
	err := s.view(func(t *Tx) error {
		c := t.bucket(bucketInspections).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var in Inspection
			if err := json.Unmarshal(v, &in); err != nil {
				return err
			}
			out = append(out, in)
		}
		return nil
	})
	return out, err
}

// DeliverNotice puts a system message (a blob already written) into the
// account's INBOX inside this transaction.
func (t *Tx) DeliverNotice(account string, msg NewMessage) (Delivered, error) {
	if t.bucket(bucketAccounts).Get([]byte(account)) == nil {
		return Delivered{}, fmt.Errorf("account %q: %w", account, ErrNotFound)
	}
	if msg.Internal.IsZero() {
		msg.Internal = time.Now().UTC()
	}
	if err := t.ensureMailboxes(account); err != nil {
		return Delivered{}, err
	}
	m, err := t.MailboxByName(account, Inbox)
	if err != nil {
		return Delivered{}, err
	}
	uids, err := t.appendMessages(m, []NewMessage{msg}, nil)
	if err != nil {
		return Delivered{}, err
	}
	return Delivered{Account: account, Mailbox: m.ID, UIDValidity: m.UIDValidity, UID: uids[0]}, nil
}

// eraseInspections removes the requests about a person and the person's
// name from requests they made or approved (an erased auditor).
func eraseInspections(s *Store, account string, r *ErasureReport) error {
	return s.update(func(t *Tx) error {
		b := t.bucket(bucketInspections)
		var del, put []*Inspection
		err := b.ForEach(func(k, v []byte) error {
			var in Inspection
			if err := json.Unmarshal(v, &in); err != nil {
				return err
			}
			switch {
			case in.Person == account:
				del = append(del, &in)
			case in.RequestedBy == account || in.ApprovedBy == account:
				if in.RequestedBy == account {
					in.RequestedBy = ErasedName
				}
				if in.ApprovedBy == account {
					in.ApprovedBy = ErasedName
				}
				put = append(put, &in)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, in := range del {
			if err := b.Delete(u64(in.ID)); err != nil {
				return err
			}
		}
		for _, in := range put {
			if err := t.PutInspection(in); err != nil {
				return err
			}
		}
		r.Add("inspections", len(del)+len(put))
		return nil
	})
}
