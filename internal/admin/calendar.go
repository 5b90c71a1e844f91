package admin

import (
	"fmt"
	"time"

	"schulhof/store"
)

// CalendarSettings is what the admin sees of a group calendar: counts
// and settings, no entries (those are the group's) and never the
// subscription token or its hash.
type CalendarSettings struct {
	Group        string    `json:"group"`
	Entries      int       `json:"entries"`
	Changes      uint64    `json:"changes"`
	MembersWrite bool      `json:"members_write"`
	FeedActive   bool      `json:"feed_active"`
	FeedCreated  time.Time `json:"feed_created,omitzero"`
}

// CalendarShow returns a group calendar's settings.
func (s *Service) CalendarShow(group string) (*CalendarSettings, error) {
	c, err := s.Store.Calendar(group)
	if err != nil {
		return nil, err
	}
	return &CalendarSettings{Group: c.Group, Entries: c.Entries, Changes: c.Seq, MembersWrite: c.MembersWrite,
		FeedActive: c.FeedHash != "", FeedCreated: c.FeedCreated}, nil
}

// CalendarFeedRevoke ends a group's subscription URL (a leaked link): the
// old address answers 404 at once. Audited.
func (s *Service) CalendarFeedRevoke(actor, group string) error {
	return s.Store.Update(func(t *store.Tx) error {
		if err := t.SetCalendarFeed(group, "", time.Now().UTC()); err != nil {
			return err
		}
		return t.Audit(store.AuditRecord{Actor: actor, Action: "calendar.feed.revoke", Target: group,
			Detail: fmt.Sprintf("group=%s", group)})
	})
}
