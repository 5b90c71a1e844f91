package admin

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"schulhof/policy"
	"schulhof/store"
)

// Forums for the CLI: school-wide forums and the named moderators of
// every forum. A group's teachers moderate its forum without being named.

var forumSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// CreateForum creates a school-wide forum (audited by the store).
func (s *Service) CreateForum(actor, slug, title string) (*store.Forum, error) {
	if !forumSlug.MatchString(slug) {
		return nil, policy.Deny(policy.Naming, "Forum-Kürzel %q: Kleinbuchstaben, Ziffern und Bindestriche, höchstens 40 Zeichen.", slug).Err()
	}
	title = strings.TrimSpace(title)
	if title == "" {
		title = slug
	}
	if d := s.engine().CheckBound(policy.ForumTitleBytes, int64(len(title))); !d.Allow {
		return nil, d.Err()
	}
	f, err := s.Store.CreateForum(slug, title, actor, s.now())
	if errors.Is(err, store.ErrExists) {
		return nil, fmt.Errorf("forum %q exists already", slug)
	}
	return f, err
}

// ForumRow is one forum for `schulhof forum list`.
type ForumRow struct {
	store.Forum
	Teachers []string `json:"teachers,omitempty"` // moderators by default (group forums)
}

// Forums lists the school-wide forums and every group's forum.
func (s *Service) Forums() ([]ForumRow, error) {
	stored, err := s.Store.Forums()
	if err != nil {
		return nil, err
	}
	byID := map[string]store.Forum{}
	var out []ForumRow
	for _, f := range stored {
		byID[f.ID] = f
		if f.SchoolWide() {
			out = append(out, ForumRow{Forum: f})
		}
	}
	groups, err := s.Store.Groups()
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		f, ok := byID[store.GroupForumID(g.Name)]
		if !ok {
			f = store.Forum{ID: store.GroupForumID(g.Name), Title: g.Name, Group: g.Name}
		}
		out = append(out, ForumRow{Forum: f, Teachers: g.Teachers})
	}
	return out, nil
}

// ResolveForum turns what an admin types ("5a", "elternrat", "g:5a",
// "s:elternrat") into a forum ID: a school-wide forum's slug first, then
// a group's name.
func (s *Service) ResolveForum(name string) (string, error) {
	if _, _, ok := store.ParseForumID(name); ok {
		if _, err := s.Store.Forum(name); err != nil {
			return "", notFound(err, "forum", name)
		}
		return name, nil
	}
	if _, err := s.Store.Forum(store.SchoolForumID(name)); err == nil {
		return store.SchoolForumID(name), nil
	}
	if _, err := s.Store.Forum(store.GroupForumID(strings.ToLower(name))); err == nil {
		return store.GroupForumID(strings.ToLower(name)), nil
	}
	return "", fmt.Errorf("unknown forum %q (a group name or the short name of a school-wide forum)", name)
}

// SetForumModerator names or removes a moderator (audited by the store).
// Auditors cannot moderate: they read nothing but what an inspection opens.
func (s *Service) SetForumModerator(actor, forum, name string, add bool) (string, error) {
	id, err := s.ResolveForum(forum)
	if err != nil {
		return "", err
	}
	err = s.Store.SetForumModerator(id, name, add, actor, s.now(), func(_ *store.Tx, a *store.Account) error {
		if add && a.Role == string(policy.Auditor) {
			return policy.Deny(policy.RoleRequired, "Auditor/innen können keine Foren moderieren.").Err()
		}
		return nil
	})
	return id, notFound(err, "account or forum", name)
}
