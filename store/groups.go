package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Group is a class, a course or another group. Members read and write its
// folder and receive mail to its address; teachers too, and may manage it.
type Group struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"` // class, course, other
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	Members   []string  `json:"members"`  // sorted account names
	Teachers  []string  `json:"teachers"` // sorted account names
}

// HasMember reports whether name is a member or a teacher of the group.
func (g *Group) HasMember(name string) bool {
	_, m := slices.BinarySearch(g.Members, name)
	_, t := slices.BinarySearch(g.Teachers, name)
	return m || t
}

// IsTeacher reports whether name teaches the group.
func (g *Group) IsTeacher(name string) bool {
	_, t := slices.BinarySearch(g.Teachers, name)
	return t
}

func (t *Tx) Group(name string) (*Group, error) {
	v := t.bucket(bucketGroups).Get([]byte(name))
	if v == nil {
		return nil, fmt.Errorf("group %q: %w", name, ErrNotFound)
	}
	var g Group
	if err := json.Unmarshal(v, &g); err != nil {
		return nil, fmt.Errorf("group %q: %w", name, err)
	}
	return &g, nil
}

func (t *Tx) putGroup(g *Group) error {
	v, err := json.Marshal(g)
	if err != nil {
		return err
	}
	t.publish(Event{Kind: GroupChanged, Group: g.Name})
	return t.bucket(bucketGroups).Put([]byte(g.Name), v)
}

// CreateGroup stores a new group; ErrExists if the name is taken.
func (s *Store) CreateGroup(g Group) error {
	return s.update(func(t *Tx) error { return t.CreateGroup(g) })
}

func (t *Tx) CreateGroup(g Group) error {
	if t.bucket(bucketGroups).Get([]byte(g.Name)) != nil {
		return fmt.Errorf("group %q: %w", g.Name, ErrExists)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = time.Now().UTC()
	}
	if g.Members == nil {
		g.Members = []string{}
	}
	if g.Teachers == nil {
		g.Teachers = []string{}
	}
	return t.putGroup(&g)
}

// Group returns one group.
func (s *Store) Group(name string) (*Group, error) {
	var g *Group
	err := s.view(func(t *Tx) error {
		var err error
		g, err = t.Group(name)
		return err
	})
	return g, err
}

// Groups returns all groups sorted by name.
func (s *Store) Groups() ([]Group, error) {
	var out []Group
	err := s.view(func(t *Tx) error {
		return t.bucket(bucketGroups).ForEach(func(k, v []byte) error {
			var g Group
			if err := json.Unmarshal(v, &g); err != nil {
				return fmt.Errorf("group %q: %w", k, err)
			}
			out = append(out, g)
			return nil
		})
	})
	return out, err
}

// GroupsOf returns the groups an account is a member or teacher of.
func (s *Store) GroupsOf(name string) ([]Group, error) {
	all, err := s.Groups()
	if err != nil {
		return nil, err
	}
	var out []Group
	for _, g := range all {
		if g.HasMember(name) {
			out = append(out, g)
		}
	}
	return out, nil
}

// GroupRole says in which list of a group an account is.
type GroupRole int

const (
	AsMember GroupRole = iota
	AsTeacher
)

// AddToGroup adds accounts to a group's members or teachers. Every account
// must exist; the change is all or nothing. It returns the names that were
// not already in the list.
func (s *Store) AddToGroup(group string, role GroupRole, names ...string) ([]string, error) {
	var added []string
	err := s.update(func(t *Tx) error {
		var err error
		added, err = t.AddToGroup(group, role, names...)
		return err
	})
	return added, err
}

func (t *Tx) AddToGroup(group string, role GroupRole, names ...string) ([]string, error) {
	g, err := t.Group(group)
	if err != nil {
		return nil, err
	}
	var added []string
	for _, n := range names {
		if _, err := t.Account(n); err != nil {
			return nil, err
		}
		list := &g.Members
		if role == AsTeacher {
			list = &g.Teachers
		}
		var ok bool
		if *list, ok = sortedInsert(*list, n); ok {
			added = append(added, n)
		}
	}
	return added, t.putGroup(g)
}

// RemoveFromGroup removes accounts from a group's members or teachers and
// returns the names that were in the list.
func (s *Store) RemoveFromGroup(group string, role GroupRole, names ...string) ([]string, error) {
	var removed []string
	err := s.update(func(t *Tx) error {
		var err error
		removed, err = t.RemoveFromGroup(group, role, names...)
		return err
	})
	return removed, err
}

// RemoveFromGroup is Store.RemoveFromGroup inside a transaction.
func (t *Tx) RemoveFromGroup(group string, role GroupRole, names ...string) ([]string, error) {
	var removed []string
	g, err := t.Group(group)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		list := &g.Members
		if role == AsTeacher {
			list = &g.Teachers
		}
		var ok bool
		if *list, ok = sortedRemove(*list, n); ok {
			removed = append(removed, n)
		}
	}
	return removed, t.putGroup(g)
}
