package admin

import (
	"errors"
	"fmt"
	"strings"

	"schulhof/policy"
	"schulhof/store"
)

// GroupKinds are the kinds a group may have.
var GroupKinds = []string{"class", "course", "other"}

func checkKind(kind string) error {
	for _, k := range GroupKinds {
		if k == kind {
			return nil
		}
	}
	return fmt.Errorf("unknown group kind %q (class, course, other)", kind)
}

// AddGroup creates a group and returns its normalized name.
func (s *Service) AddGroup(actor, name, kind string) (string, error) {
	n, d := s.engine().GroupName(name)
	if !d.Allow {
		return "", refused(d)
	}
	if err := checkKind(kind); err != nil {
		return "", err
	}
	err := s.Store.Update(func(t *store.Tx) error {
		if err := t.CreateGroup(store.Group{Name: n, Kind: kind, CreatedAt: s.now(), CreatedBy: actor}); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("group %q exists already", n)
			}
			return err
		}
		return t.Audit(store.AuditRecord{Actor: actor, Action: "group.add", Target: n, Detail: "kind=" + kind})
	})
	return n, err
}

// ensureGroup creates a group if it does not exist yet and reports whether
// it did.
func (s *Service) ensureGroup(t *store.Tx, actor, name, kind string) (bool, error) {
	if _, err := t.Group(name); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if err := t.CreateGroup(store.Group{Name: name, Kind: kind, CreatedAt: s.now(), CreatedBy: actor}); err != nil {
		return false, err
	}
	return true, t.Audit(store.AuditRecord{Actor: actor, Action: "group.add", Target: name, Detail: "kind=" + kind})
}

// Groups lists all groups.
func (s *Service) Groups() ([]store.Group, error) {
	g, err := s.Store.Groups()
	if g == nil {
		g = []store.Group{}
	}
	return g, err
}

// ChangeMembers adds or removes accounts as members or teachers of a group
// and returns the names that changed. Unknown accounts refuse the whole
// change.
func (s *Service) ChangeMembers(actor, group string, role store.GroupRole, add bool, names []string) ([]string, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("name at least one user")
	}
	list := "member"
	if role == store.AsTeacher {
		list = "teacher"
	}
	verb := "remove"
	if add {
		verb = "add"
	}
	var changed []string
	err := s.Store.Update(func(t *store.Tx) error {
		g, err := t.Group(group)
		if err != nil {
			return notFound(err, "group", group)
		}
		for _, n := range names {
			a, err := t.Account(n)
			if err != nil {
				return notFound(err, "user", n)
			}
			if add && role == store.AsTeacher && a.Role != string(policy.Teacher) && a.Role != string(policy.Admin) {
				return fmt.Errorf("user %q is a %s, not a teacher", n, a.Role)
			}
		}
		if add {
			changed, err = t.AddToGroup(g.Name, role, names...)
		} else {
			changed, err = t.RemoveFromGroup(g.Name, role, names...)
		}
		if err != nil {
			return err
		}
		return t.Audit(store.AuditRecord{Actor: actor, Action: "group." + list + "." + verb, Target: g.Name,
			Detail: strings.Join(changed, ",")})
	})
	return changed, err
}
