// Package calendar is the group calendars' logic shared by the portal
// (web) and CalDAV (caldavd): who may read and write a group's calendar
// (CAL-WRITE), what an entry may hold (CAL-DATA, LIMIT-CALENDAR), the
// subscription tokens, and the read-only entries other modules add
// (Provider). Every change goes through store.PutCalendarEntry or
// DeleteCalendarEntry, which keep each revision.
package calendar

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// Item is a read-only calendar entry that another module supplies (a
// homework's due date, say). It is shown in the portal, served over CalDAV
// and in the subscription, and can be changed only in its own module.
type Item struct {
	// ID is unique within the provider and the group; it must be stable
	// (it becomes the CalDAV object name "<provider>-<ID>.ics").
	ID          string
	Title       string
	Description string
	Start, End  time.Time
	AllDay      bool
	// Link is the portal page of the item (a path such as "/hausaufgaben/7").
	Link string
}

// Provider supplies read-only entries of a group's calendar.
//
// A module registers one with Service.Register at start; Items is asked
// for every calendar view, REPORT and subscription download of the
// group, so it must be cheap (a prefix scan, not a scan of everything).
// from and to may be zero: all items.
type Provider interface {
	Items(group string, from, to time.Time) ([]Item, error)
}

// Service is the calendar logic over one store.
type Service struct {
	st  *store.Store
	pol *policy.Engine
	now func() time.Time

	mu        sync.RWMutex
	providers map[string]Provider
	names     []string
}

// New returns the service; now may be nil (time.Now).
func New(st *store.Store, pol *policy.Engine, now func() time.Time) *Service {
	if pol == nil {
		pol = policy.NewEngine()
	}
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, pol: pol, now: now, providers: map[string]Provider{}}
}

// Register adds a provider under a short lower-case name ("homework").
func (s *Service) Register(name string, p Provider) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.providers[name]; dup {
		panic("calendar: provider " + name + " registered twice")
	}
	s.providers[name] = p
	s.names = append(s.names, name)
	sort.Strings(s.names)
}

// ProvidedItem is an Item with the provider that made it.
type ProvidedItem struct {
	Provider string
	Item
}

// UID is the item's CalDAV UID and object name (without ".ics").
func (p ProvidedItem) UID() string { return p.Provider + "-" + p.ID + "@schulhof" }

// Provided returns the items of every provider for a group.
func (s *Service) Provided(group string, from, to time.Time) ([]ProvidedItem, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []ProvidedItem
	for _, n := range s.names {
		items, err := s.providers[n].Items(group, from, to)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, ProvidedItem{n, it})
		}
	}
	return out, nil
}

// IsProvided reports whether a UID belongs to a provider's item (those
// cannot be written or deleted through the calendar).
func (s *Service) IsProvided(uid string) bool {
	if !strings.HasSuffix(uid, "@schulhof") {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, n := range s.names {
		if strings.HasPrefix(uid, n+"-") {
			return true
		}
	}
	return false
}

// Access is what an account may do in a group's calendar.
type Access struct {
	Group *store.Group
	Info  *store.CalendarInfo
	Read  policy.Decision
	Write policy.Decision
}

// Access reads the group and decides read and write for the account.
func (s *Service) Access(a *store.Account, group string) (*Access, error) {
	g, err := s.st.Group(group)
	if err != nil {
		return nil, err
	}
	info, err := s.st.Calendar(group)
	if err != nil {
		return nil, err
	}
	return &Access{Group: g, Info: info, Read: policy.CheckCalendarRead(g.HasMember(a.Name)),
		Write: policy.CheckCalendarWrite(policy.CalendarWriter{Role: policy.Role(a.Role),
			Teacher: g.IsTeacher(a.Name), Member: g.HasMember(a.Name), MembersWrite: info.MembersWrite})}, nil
}

// Groups returns the groups whose calendars an account reads.
func (s *Service) Groups(a *store.Account) ([]store.Group, error) {
	return s.st.GroupsOf(a.Name)
}

// Refusal is an error carrying the decision that refused.
type Refusal struct{ D policy.Decision }

func (r *Refusal) Error() string { return r.D.String() }

// AsRefusal returns the decision inside err, if it is a refusal.
func AsRefusal(err error) (policy.Decision, bool) {
	var r *Refusal
	if errors.As(err, &r) {
		return r.D, true
	}
	return policy.Decision{}, false
}

func refuse(d policy.Decision) error { return &Refusal{d} }

// PutOptions are a write's preconditions.
type PutOptions struct {
	IfMatch     string
	IfNoneMatch bool
}

// Put creates or changes an entry as account a. Refusals (CAL-WRITE,
// CAL-DATA, LIMIT-CALENDAR) come back as *Refusal; failed preconditions
// as store.ErrPrecondition.
func (s *Service) Put(a *store.Account, group, uid string, f store.CalFields, o PutOptions) (*store.CalEntry, bool, error) {
	acc, err := s.Access(a, group)
	if err != nil {
		return nil, false, err
	}
	if !acc.Write.Allow {
		return nil, false, refuse(acc.Write)
	}
	if d := checkUID(uid); !d.Allow {
		return nil, false, refuse(d)
	}
	if s.IsProvided(uid) {
		return nil, false, refuse(policy.Deny(policy.CalWrite, "Dieser Eintrag kommt aus einem anderen Modul und wird dort geändert."))
	}
	max, maxRev := s.pol.Bound(policy.CalendarEntriesPerCal), s.pol.Bound(policy.CalendarRevisions)
	e, created, err := s.st.PutCalendarEntry(store.CalPut{Group: group, UID: uid, Fields: f, By: a.Name, Time: s.now().UTC(),
		IfMatch: o.IfMatch, IfNoneMatch: o.IfNoneMatch, MaxEntries: int(max), MaxRevisions: uint64(maxRev)})
	if errors.Is(err, store.ErrCalendarFull) {
		return nil, false, refuse(s.pol.CheckBound(policy.CalendarEntriesPerCal, max+1))
	}
	if errors.Is(err, store.ErrRevisionsFull) {
		return nil, false, refuse(s.pol.CheckBound(policy.CalendarRevisions, maxRev+1))
	}
	return e, created, err
}

// Delete removes an entry as account a (a tombstone with its history).
func (s *Service) Delete(a *store.Account, group, uid, ifMatch string) error {
	acc, err := s.Access(a, group)
	if err != nil {
		return err
	}
	if !acc.Write.Allow {
		return refuse(acc.Write)
	}
	if s.IsProvided(uid) {
		return refuse(policy.Deny(policy.CalWrite, "Dieser Eintrag kommt aus einem anderen Modul und wird dort geändert."))
	}
	return s.st.DeleteCalendarEntry(group, uid, a.Name, s.now().UTC(), ifMatch)
}

// SetMembersWrite switches whether members may write; only the group's
// teachers may.
func (s *Service) SetMembersWrite(a *store.Account, group string, on bool) error {
	g, err := s.st.Group(group)
	if err != nil {
		return err
	}
	if !g.IsTeacher(a.Name) {
		return refuse(policy.Deny(policy.CalWrite, "Nur die Lehrkräfte der Gruppe ändern, wer in ihren Kalender einträgt."))
	}
	return s.st.SetCalendarMembersWrite(group, on)
}

// NewFeedToken makes a new subscription token for the group (the old one
// stops working) and returns it; only the group's teachers may. The token
// is shown once; the store keeps only its hash.
func (s *Service) NewFeedToken(a *store.Account, group string) (string, error) {
	g, err := s.st.Group(group)
	if err != nil {
		return "", err
	}
	if !g.IsTeacher(a.Name) {
		return "", refuse(policy.Deny(policy.CalWrite, "Nur die Lehrkräfte der Gruppe verwalten die Abonnement-Adresse."))
	}
	return s.SetFeedToken(group)
}

// SetFeedToken makes a new token without a permission check (the admin
// CLI).
func (s *Service) SetFeedToken(group string) (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return tok, s.st.SetCalendarFeed(group, tok, s.now().UTC())
}

// RevokeFeed ends the group's subscription URL; only its teachers may.
func (s *Service) RevokeFeed(a *store.Account, group string) error {
	g, err := s.st.Group(group)
	if err != nil {
		return err
	}
	if !g.IsTeacher(a.Name) {
		return refuse(policy.Deny(policy.CalWrite, "Nur die Lehrkräfte der Gruppe verwalten die Abonnement-Adresse."))
	}
	return s.st.SetCalendarFeed(group, "", s.now())
}

// Store and Policy are the service's own, for its callers' reads.
func (s *Service) Store() *store.Store    { return s.st }
func (s *Service) Policy() *policy.Engine { return s.pol }
