package admin

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// NewUser is what `user add` and the import know about a person.
type NewUser struct {
	First, Last string
	Role        policy.Role
	Groups      []string // members (students) or taught (teachers)
	Password    string   // empty: generate a one-time password
	ExternalID  string
	BirthDate   string         // YYYY-MM-DD, only from the import
	Consent     *ImportConsent // the import's Einwilligung column; nil: defaults
	ConsentForm string         // form version recorded with Consent
}

// Created reports a new account.
type Created struct {
	Account   store.Account `json:"account"`
	Address   string        `json:"address"`
	Password  string        `json:"password,omitempty"` // generated one-time password
	Warning   string        `json:"warning,omitempty"`
	Joined    []string      `json:"groups,omitempty"`     // groups joined (or taught)
	NewGroups []string      `json:"new_groups,omitempty"` // groups created on the way
}

// prepared is a NewUser checked and hashed, ready for a transaction.
type prepared struct {
	NewUser
	base, hash, oneTime string
}

func (s *Service) prepare(u NewUser) (prepared, error) {
	p := prepared{NewUser: u}
	u.First, u.Last = strings.TrimSpace(u.First), strings.TrimSpace(u.Last)
	p.NewUser = u
	if u.First == "" || u.Last == "" {
		return p, fmt.Errorf("first and last name are required")
	}
	if d := s.engine().CheckPersonName(u.First, u.Last); !d.Allow {
		return p, refused(d)
	}
	base, d := policy.AccountBase(u.First, u.Last)
	if !d.Allow {
		return p, refused(d)
	}
	if d := s.engine().CheckAccountName(base); !d.Allow {
		return p, refused(d)
	}
	p.base = base
	if u.Role == "" {
		p.Role = policy.Student
	} else if _, d := policy.ParseRole(string(u.Role)); !d.Allow {
		return p, refused(d)
	}
	var err error
	if u.Password != "" {
		if d := policy.CheckPassword(u.Password, policy.PasswordFacts{FirstName: u.First, LastName: u.Last, AccountName: base}); !d.Allow {
			return p, refused(d)
		}
		p.hash, err = auth.HashPassword(u.Password, auth.UserParams)
	} else {
		p.oneTime = auth.GenerateOneTime()
		p.hash, err = auth.HashPassword(p.oneTime, auth.OneTimeParams)
	}
	return p, err
}

// create stores a prepared user inside a transaction. Missing groups are
// created as classes.
func (s *Service) create(t *store.Tx, actor string, p prepared) (Created, error) {
	acct := store.Account{
		First: p.First, Last: p.Last, Role: string(p.Role), PasswordHash: p.hash,
		MustChange:      true, // first login changes it, as after a reset
		ConsentPlatform: true, ConsentComms: s.DefaultConsentComms,
		CreatedAt: s.now(), CreatedBy: actor, ExternalID: p.ExternalID, BirthDate: p.BirthDate,
	}
	var recorded []policy.ConsentScope
	if p.Consent != nil {
		acct.ConsentPlatform, acct.ConsentComms = false, false
		recorded = s.importConsent(&acct, *p.Consent, p.ConsentForm, actor)
	}
	a, err := t.CreateAccount(acct, func(n int) string { return policy.AccountCandidate(p.base, n) })
	if err != nil {
		return Created{}, err
	}
	if err := auditImportedConsents(t, actor, a.Name, recorded, p.ConsentForm); err != nil {
		return Created{}, err
	}
	// A collision suffix (max.mueller2) may carry the name over the bound:
	// refused, and the transaction with it.
	if d := s.engine().CheckAccountName(a.Name); !d.Allow {
		return Created{}, refused(d)
	}
	a.PasswordHash = "" // never leaves the store through admin output
	c := Created{Account: a, Address: s.Address(a.Name), Password: p.oneTime, Warning: policy.AccountNameWarning(a.Name)}
	for _, g := range p.Groups {
		made, err := s.ensureGroup(t, actor, g, "class")
		if err != nil {
			return c, err
		}
		if made {
			c.NewGroups = append(c.NewGroups, g)
		}
		c.Joined = append(c.Joined, g)
		role := store.AsMember
		if p.Role == policy.Teacher {
			role = store.AsTeacher
		}
		if _, err := t.AddToGroup(g, role, a.Name); err != nil {
			return c, err
		}
	}
	return c, t.Audit(store.AuditRecord{Actor: actor, Action: "user.add", Target: a.Name,
		Detail: fmt.Sprintf("role=%s groups=%s", a.Role, strings.Join(p.Groups, ","))})
}

// AddUser creates one account with its derived name and address.
func (s *Service) AddUser(actor string, u NewUser) (Created, error) {
	for i, g := range u.Groups {
		n, d := s.engine().GroupName(g)
		if !d.Allow {
			return Created{}, refused(d)
		}
		u.Groups[i] = n
	}
	p, err := s.prepare(u)
	if err != nil {
		return Created{}, err
	}
	var c Created
	err = s.Store.Update(func(t *store.Tx) error {
		var err error
		c, err = s.create(t, actor, p)
		return err
	})
	return c, err
}

// UserInfo is an account with its groups and exceptions, for `user show`.
type UserInfo struct {
	store.Account
	PasswordHash any               `json:"password_hash,omitempty"` // never shown
	Address      string            `json:"address"`
	Groups       []string          `json:"groups"`
	Teaches      []string          `json:"teaches"`
	Exceptions   []store.Exception `json:"exceptions"`
}

// ShowUser returns everything stored about an account except its hash.
func (s *Service) ShowUser(name string) (UserInfo, error) {
	a, err := s.Store.Account(name)
	if err != nil {
		return UserInfo{}, notFound(err, "user", name)
	}
	a.PasswordHash = "" // never shown
	// The address of the last login is login-log data: auditors evaluate
	// it through an inspection (AUDIT-INSPECT), admins do not see it.
	a.LastLoginIP = ""
	info := UserInfo{Account: *a, Address: s.Address(a.Name), Groups: []string{}, Teaches: []string{}}
	groups, err := s.Store.GroupsOf(name)
	if err != nil {
		return info, err
	}
	for _, g := range groups {
		if g.IsTeacher(name) {
			info.Teaches = append(info.Teaches, g.Name)
		} else {
			info.Groups = append(info.Groups, g.Name)
		}
	}
	info.Exceptions, err = s.Store.Exceptions(name)
	if info.Exceptions == nil {
		info.Exceptions = []store.Exception{}
	}
	return info, err
}

// ListUsers returns accounts, optionally only of one group and/or role.
func (s *Service) ListUsers(group, role string) ([]store.Account, error) {
	var in *store.Group
	if group != "" {
		g, err := s.Store.Group(group)
		if err != nil {
			return nil, notFound(err, "group", group)
		}
		in = g
	}
	if role != "" {
		if _, d := policy.ParseRole(role); !d.Allow {
			return nil, refused(d)
		}
	}
	all, err := s.Store.Accounts()
	if err != nil {
		return nil, err
	}
	out := []store.Account{}
	for _, a := range all {
		if (in == nil || in.HasMember(a.Name)) && (role == "" || a.Role == role) {
			a.PasswordHash, a.LastLoginIP = "", "" // never shown; the IP is for inspections
			out = append(out, a)
		}
	}
	return out, nil
}

// change updates one account and audits the change in one transaction.
func (s *Service) change(actor, name, action, detail string, fn func(a *store.Account) error) (*store.Account, error) {
	var out *store.Account
	err := s.Store.Update(func(t *store.Tx) error {
		var err error
		if out, err = t.UpdateAccount(name, fn); err != nil {
			return notFound(err, "user", name)
		}
		return t.Audit(store.AuditRecord{Actor: actor, Action: action, Target: name, Detail: detail})
	})
	var re *policy.RefusalError
	if errors.As(err, &re) && re.Decision.Rule == policy.AuditInspect {
		// An admin reaching for an auditor's password is worth a trace.
		s.Store.Update(func(t *store.Tx) error {
			return t.Audit(store.AuditRecord{Actor: actor, Action: action + ".refused", Target: name, Detail: re.Decision.String()})
		})
	}
	if err == nil {
		s.forget(name)
	}
	return out, err
}

// Lock locks an account: every protocol refuses it and open sessions end.
func (s *Service) Lock(actor, name, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("a reason is required (--reason)")
	}
	_, err := s.change(actor, name, "user.lock", reason, func(a *store.Account) error {
		a.Locked, a.LockReason, a.LockedAt, a.LockedBy = true, reason, s.now(), actor
		return nil
	})
	return err
}

// Unlock lifts a lock.
func (s *Service) Unlock(actor, name string) error {
	_, err := s.change(actor, name, "user.unlock", "", func(a *store.Account) error {
		if !a.Locked {
			return fmt.Errorf("user %q is not locked", name)
		}
		a.Locked, a.LockReason, a.LockedAt, a.LockedBy = false, "", s.now(), actor
		a.LeftAt = time.Time{} // no longer a leaver due for erasure
		return nil
	})
	return err
}

// ResetPassword gives an account a new one-time password that must be
// changed at the next login, and returns it.
func (s *Service) ResetPassword(actor, name string) (string, error) {
	pw := auth.GenerateOneTime()
	hash, err := auth.HashPassword(pw, auth.OneTimeParams)
	if err != nil {
		return "", err
	}
	_, err = s.change(actor, name, "user.reset-password", "", func(a *store.Account) error {
		if d := policy.CheckAdminSetsPassword(policy.Role(a.Role)); !d.Allow {
			return refused(d)
		}
		a.PasswordHash, a.MustChange = hash, true
		return nil
	})
	return pw, err
}

// SetPassword sets a password the user asked for: PW-STRENGTH applies and
// must-change is cleared.
func (s *Service) SetPassword(actor, name, pw string) error {
	a, err := s.Store.Account(name)
	if err != nil {
		return notFound(err, "user", name)
	}
	if d := policy.CheckPassword(pw, policy.PasswordFacts{FirstName: a.First, LastName: a.Last, AccountName: a.Name}); !d.Allow {
		return refused(d)
	}
	if ok, _ := auth.CheckPassword(pw, a.PasswordHash); ok {
		return fmt.Errorf("the new password must differ from the current one")
	}
	hash, err := auth.HashPassword(pw, auth.UserParams)
	if err != nil {
		return err
	}
	_, err = s.change(actor, name, "user.passwd", "", func(a *store.Account) error {
		if d := policy.CheckAdminSetsPassword(policy.Role(a.Role)); !d.Allow {
			return refused(d)
		}
		a.PasswordHash, a.MustChange = hash, false
		return nil
	})
	return err
}

// DeleteUser removes an account and all it stored: the platform erasure
// of the privacy registry (store.EraseAccountBy), which writes the one
// "privacy.erase" audit record. The name stays reserved so it never
// reaches another person. The report says what went.
func (s *Service) DeleteUser(actor, name string) (*store.ErasureReport, error) {
	r, err := s.Store.EraseAccountBy(actor, name, store.ErasePlatform)
	s.forget(name)
	if err != nil {
		return r, notFound(err, "user", name)
	}
	return r, nil
}
