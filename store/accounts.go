package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Account is one person's account. Fields follow the Nutzungsordnung's list
// of stored data ("Art der gespeicherten Daten"); nothing else is kept.
type Account struct {
	// 1. necessary
	Name         string `json:"name"` // vorname.nachname[N], never reused
	First        string `json:"first"`
	Last         string `json:"last"`
	PasswordHash string `json:"password_hash,omitempty"` // argon2id, PHC string form
	// roles and states
	Role       string    `json:"role"` // student, teacher, admin, auditor
	MustChange bool      `json:"must_change,omitempty"`
	Locked     bool      `json:"locked,omitempty"`
	LockReason string    `json:"lock_reason,omitempty"`
	LockedAt   time.Time `json:"locked_at,omitzero"`
	LockedBy   string    `json:"locked_by,omitempty"`
	// Einwilligung: platform use; e-mail, chat and internet. The
	// booleans are the fast check at every login; the records say who
	// gave the consent, when, on which form, and its withdrawal
	// (consent.go). An account from before the records has only the
	// booleans.
	ConsentPlatform bool           `json:"consent_platform"`
	ConsentComms    bool           `json:"consent_comms"`
	PlatformConsent *ConsentRecord `json:"platform_consent,omitempty"`
	CommsConsent    *ConsentRecord `json:"comms_consent,omitempty"`
	// LeftAt: `import --sync` found the pupil missing from the file and
	// locked the account; after the grace period it is erased (leavers).
	LeftAt time.Time `json:"left_at,omitzero"`
	// 2. recorded automatically
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	LastLoginIP string    `json:"last_login_ip,omitempty"`
	// 3. school organisation: the key of the school administration software
	ExternalID string `json:"external_id,omitempty"`
	// BirthDate (YYYY-MM-DD) only when the import gives it: it decides
	// who must sign the consent form (policy.RequiredSigner).
	BirthDate string `json:"birth_date,omitempty"`
	// 6. voluntary
	Nickname string            `json:"nickname,omitempty"`
	Color    string            `json:"color,omitempty"`
	Settings map[string]string `json:"settings,omitempty"`
}

// NameRecord remembers that a name was given, forever.
type NameRecord struct {
	GivenAt time.Time `json:"given_at"`
}

// CreateAccount stores a new account under the first free name that
// candidate yields (candidate(1), candidate(2), …): a name given once is
// never given again, even after deletion. It returns the stored account.
func (s *Store) CreateAccount(a Account, candidate func(n int) string) (Account, error) {
	err := s.update(func(t *Tx) error {
		var err error
		a, err = t.CreateAccount(a, candidate)
		return err
	})
	return a, err
}

func (t *Tx) CreateAccount(a Account, candidate func(n int) string) (Account, error) {
	names := t.bucket(bucketNames)
	for n := 1; ; n++ {
		if n > 10000 {
			return a, fmt.Errorf("no free account name for %s", candidate(1))
		}
		name := candidate(n)
		if names.Get([]byte(name)) == nil && t.bucket(bucketAccounts).Get([]byte(name)) == nil {
			a.Name = name
			break
		}
	}
	if a.ExternalID != "" {
		if other := t.bucket(bucketExtIDs).Get([]byte(a.ExternalID)); other != nil {
			return a, fmt.Errorf("external ID %q: %w (account %s)", a.ExternalID, ErrExists, other)
		}
		if err := t.bucket(bucketExtIDs).Put([]byte(a.ExternalID), []byte(a.Name)); err != nil {
			return a, err
		}
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now().UTC()
	}
	rec, _ := json.Marshal(NameRecord{GivenAt: a.CreatedAt})
	if err := names.Put([]byte(a.Name), rec); err != nil {
		return a, err
	}
	return a, t.putAccount(&a)
}

func (t *Tx) putAccount(a *Account) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return t.bucket(bucketAccounts).Put([]byte(a.Name), v)
}

func (t *Tx) Account(name string) (*Account, error) {
	v := t.bucket(bucketAccounts).Get([]byte(name))
	if v == nil {
		return nil, fmt.Errorf("account %q: %w", name, ErrNotFound)
	}
	var a Account
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("account %q: %w", name, err)
	}
	return &a, nil
}

// Account returns one account.
func (s *Store) Account(name string) (*Account, error) {
	var a *Account
	err := s.view(func(t *Tx) error {
		var err error
		a, err = t.Account(name)
		return err
	})
	return a, err
}

// AccountByExternalID finds the account imported with an external ID.
func (s *Store) AccountByExternalID(id string) (*Account, error) {
	var a *Account
	err := s.view(func(t *Tx) error {
		name := t.bucket(bucketExtIDs).Get([]byte(id))
		if name == nil {
			return fmt.Errorf("external ID %q: %w", id, ErrNotFound)
		}
		var err error
		a, err = t.Account(string(name))
		return err
	})
	return a, err
}

// Accounts returns all accounts sorted by name.
func (s *Store) Accounts() ([]Account, error) {
	var out []Account
	err := s.view(func(t *Tx) error {
		return t.bucket(bucketAccounts).ForEach(func(k, v []byte) error {
			var a Account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("account %q: %w", k, err)
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// UpdateAccount changes one account in its own transaction; see
// Tx.UpdateAccount.
func (s *Store) UpdateAccount(name string, fn func(a *Account) error) (*Account, error) {
	var out *Account
	err := s.update(func(t *Tx) error {
		var err error
		out, err = t.UpdateAccount(name, fn)
		return err
	})
	return out, err
}

// UpdateAccount changes one account. fn may refuse by returning an error;
// nothing is written then. Subscribers see an AccountChanged event
// (sessions use it to end on lock or password change).
func (t *Tx) UpdateAccount(name string, fn func(a *Account) error) (*Account, error) {
	a, err := t.Account(name)
	if err != nil {
		return nil, err
	}
	if err := fn(a); err != nil {
		return nil, err
	}
	a.Name = name // the name is the key; it never changes
	if err := t.putAccount(a); err != nil {
		return nil, err
	}
	t.publish(Event{Kind: AccountChanged, Account: name, Data: *a})
	return a, nil
}

// DeleteAccount removes an account and everything it stored: it is the
// platform erasure (EraseAccount with ErasePlatform), the one way an
// account goes. The name stays reserved.
func (s *Store) DeleteAccount(name string) error {
	_, err := s.EraseAccount(name, ErasePlatform)
	return err
}

// NameGiven reports whether an account name was ever given.
func (s *Store) NameGiven(name string) (bool, error) {
	given := false
	err := s.view(func(t *Tx) error {
		given = t.bucket(bucketNames).Get([]byte(name)) != nil
		return nil
	})
	return given, err
}

func sortedInsert(list []string, v string) ([]string, bool) {
	i := sort.SearchStrings(list, v)
	if i < len(list) && list[i] == v {
		return list, false
	}
	list = append(list, "")
	copy(list[i+1:], list[i:])
	list[i] = v
	return list, true
}

func sortedRemove(list []string, v string) ([]string, bool) {
	i := sort.SearchStrings(list, v)
	if i < len(list) && list[i] == v {
		return append(list[:i], list[i+1:]...), true
	}
	return list, false
}

// SetExternalID links an external ID to an account that had none.
func (t *Tx) SetExternalID(id, name string) error {
	if other := t.bucket(bucketExtIDs).Get([]byte(id)); other != nil && string(other) != name {
		return fmt.Errorf("external ID %q: %w (account %s)", id, ErrExists, other)
	}
	return t.bucket(bucketExtIDs).Put([]byte(id), []byte(name))
}
