package store

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Person is what the shared address book shows of an account
// (Nutzungsordnung: "gemeinsames Adressbuch"): the name, the account's
// address and the nickname it chose. It is decoded from the account record
// without the rest (hash, consents, login data, birth date), so listing a
// school's address book neither allocates nor hands out more than it shows.
type Person struct {
	Name     string `json:"name"`
	First    string `json:"first"`
	Last     string `json:"last"`
	Nickname string `json:"nickname,omitempty"`
	Color    string `json:"color,omitempty"`
	Role     string `json:"role"`
}

// People returns the address book's view of every account, sorted by name.
func (s *Store) People() ([]Person, error) {
	var out []Person
	err := s.view(func(t *Tx) error {
		b := t.bucket(bucketAccounts)
		out = make([]Person, 0, b.Stats().KeyN)
		return b.ForEach(func(k, v []byte) error {
			var p Person
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("account %q: %w", k, err)
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// Person returns one account's address book view; ErrNotFound if there is
// no such account.
func (s *Store) Person(name string) (*Person, error) {
	var p Person
	err := s.view(func(t *Tx) error {
		v := t.bucket(bucketAccounts).Get([]byte(name))
		if v == nil {
			return fmt.Errorf("account %q: %w", name, ErrNotFound)
		}
		return json.Unmarshal(v, &p)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Memberships maps every account to the sorted names of the groups it is
// a member or teacher of, from one pass over the groups.
func (s *Store) Memberships() (map[string][]string, error) {
	groups, err := s.Groups()
	if err != nil {
		return nil, err
	}
	of := map[string][]string{}
	for _, g := range groups { // sorted by name: each list comes out sorted
		for _, m := range g.Members {
			of[m] = append(of[m], g.Name)
		}
		for _, m := range g.Teachers {
			if l := of[m]; len(l) == 0 || l[len(l)-1] != g.Name {
				of[m] = append(of[m], g.Name)
			}
		}
	}
	for _, l := range of {
		sort.Strings(l)
	}
	return of, nil
}

// PeopleNamed returns the address book view of the named accounts that
// exist, read in one transaction (a client's multiget of many cards).
func (s *Store) PeopleNamed(names []string) (map[string]Person, error) {
	out := make(map[string]Person, len(names))
	err := s.view(func(t *Tx) error {
		b := t.bucket(bucketAccounts)
		for _, n := range names {
			v := b.Get([]byte(n))
			if v == nil {
				continue
			}
			var p Person
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("account %q: %w", n, err)
			}
			out[n] = p
		}
		return nil
	})
	return out, err
}
