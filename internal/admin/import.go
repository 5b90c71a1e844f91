package admin

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// ImportOptions steer ImportUsers.
type ImportOptions struct {
	DryRun bool // plan and report, write nothing
	Sync   bool // lock students and teachers missing from the file
	// ConsentForm is the form version recorded with the Einwilligung
	// column's consents (default "Import").
	ConsentForm string
}

// Move is a student whose class changed.
type Move struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

// ImportResult says what an import did (or, dry, would do).
type ImportResult struct {
	DryRun    bool      `json:"dry_run"`
	Rows      int       `json:"rows"`
	Created   []Created `json:"created"`
	Moved     []Move    `json:"moved"`
	NewGroups []string  `json:"new_groups"`
	Unchanged int       `json:"unchanged"`
	Locked    []string  `json:"locked"`   // by --sync
	Unlocked  []string  `json:"unlocked"` // back in the file after a --sync lock
	// Consents lists existing accounts that got a consent from the
	// Einwilligung column (an import never withdraws one).
	Consents []string `json:"consents"`
	// Refused are new people whose account name would be over the bound
	// (LIMIT-NAME): they are not imported, every other row is.
	Refused []RefusedRow `json:"refused"`
}

// RefusedRow is one row of an import file that was not imported.
type RefusedRow struct {
	Line   int    `json:"line"`
	Name   string `json:"name"` // the account name it would have had
	Reason string `json:"reason"`
}

// ImportError lists every bad line of an import file; nothing was imported.
type ImportError struct{ Lines []error }

func (e *ImportError) Error() string {
	msgs := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		msgs[i] = l.Error()
	}
	return fmt.Sprintf("import refused, nothing was imported (%d problem(s)):\n  %s", len(msgs), strings.Join(msgs, "\n  "))
}

// syncLockPrefix marks locks made by --sync, so that a person who is back
// in a later file is unlocked again (and no lock an admin set by hand is).
const syncLockPrefix = "nicht in der Importdatei"

// ImportUsers creates and updates accounts and groups from an import file
// in one transaction: a file with any bad row imports nothing. Re-importing
// the same file changes nothing.
func (s *Service) ImportUsers(actor string, data []byte, opt ImportOptions) (ImportResult, error) {
	res := ImportResult{DryRun: opt.DryRun, Created: []Created{}, Moved: []Move{}, NewGroups: []string{}, Locked: []string{}, Unlocked: []string{}, Refused: []RefusedRow{}, Consents: []string{}}
	if opt.ConsentForm == "" {
		opt.ConsentForm = "Import"
	}
	rows, errs := parseUsersCSV(data, s.engine())
	errs = append(errs, duplicateRows(rows)...)
	if len(errs) > 0 {
		return res, &ImportError{Lines: errs}
	}
	res.Rows = len(rows)
	accounts, err := s.Store.Accounts()
	if err != nil {
		return res, err
	}
	groups, err := s.Store.Groups()
	if err != nil {
		return res, err
	}
	m := newMatcher(accounts, groups)
	matched, errs := m.match(rows)
	if len(errs) > 0 {
		return res, &ImportError{Lines: errs}
	}

	// Plan.
	known := map[string]bool{}
	for _, g := range groups {
		known[g.Name] = true
	}
	var toCreate []Row
	type change struct {
		row  Row
		acct *store.Account
		move *Move
	}
	var changes []change
	seen := map[string]bool{}
	for i, row := range rows {
		if row.Class != "" && !known[row.Class] {
			known[row.Class] = true
			res.NewGroups = append(res.NewGroups, row.Class)
		}
		a := matched[i]
		if a == nil {
			toCreate = append(toCreate, row)
			continue
		}
		seen[a.Name] = true
		c := change{row: row, acct: a}
		if row.Role == policy.Student && row.Class != "" {
			if from := m.classOf(a.Name); from != row.Class {
				c.move = &Move{Name: a.Name, From: from, To: row.Class}
				res.Moved = append(res.Moved, *c.move)
			}
		}
		unlock := a.Locked && strings.HasPrefix(a.LockReason, syncLockPrefix)
		if unlock {
			res.Unlocked = append(res.Unlocked, a.Name)
		}
		teach := row.Role == policy.Teacher && row.Class != "" && !m.inGroup(a.Name, row.Class)
		idNew := row.ID != "" && a.ExternalID == ""
		birthNew := row.BirthDate != "" && row.BirthDate != a.BirthDate
		consentNew := row.Consent != nil && (row.Consent.Platform && !a.ConsentPlatform || row.Consent.Comms && !a.ConsentComms)
		if consentNew {
			res.Consents = append(res.Consents, a.Name)
		}
		if c.move == nil && !unlock && !teach && !idNew && !birthNew && !consentNew {
			res.Unchanged++
			continue
		}
		changes = append(changes, c)
	}
	if opt.Sync {
		for _, a := range accounts {
			if !seen[a.Name] && !a.Locked && (a.Role == string(policy.Student) || a.Role == string(policy.Teacher)) {
				res.Locked = append(res.Locked, a.Name)
			}
		}
	}
	toCreate, names, err := s.planNames(toCreate, &res)
	if err != nil {
		return res, err
	}
	if opt.DryRun {
		for i, row := range toCreate {
			res.Created = append(res.Created, Created{Account: store.Account{Name: names[i], First: row.First, Last: row.Last, Role: string(row.Role)}, Address: s.Address(names[i])})
		}
		return res, nil
	}

	prepared, err := s.prepareAll(toCreate, opt.ConsentForm)
	if err != nil {
		return res, err
	}
	lockReason := fmt.Sprintf("%s (Abgleich %s)", syncLockPrefix, s.now().Format("2006-01-02"))
	err = s.Store.Update(func(t *store.Tx) error {
		res.Created = res.Created[:0]
		for _, g := range res.NewGroups {
			if _, err := s.ensureGroup(t, actor, g, "class"); err != nil {
				return err
			}
		}
		for _, p := range prepared {
			c, err := s.create(t, actor, p.prepared)
			if err != nil {
				return fmt.Errorf("line %d: %w", p.line, err)
			}
			res.Created = append(res.Created, c)
		}
		for _, c := range changes {
			if err := s.applyChange(t, actor, c.row, c.acct, c.move, m, opt.ConsentForm); err != nil {
				return fmt.Errorf("line %d: %w", c.row.Line, err)
			}
		}
		for _, name := range res.Locked {
			if _, err := t.UpdateAccount(name, func(a *store.Account) error {
				a.Locked, a.LockReason, a.LockedAt, a.LockedBy = true, lockReason, s.now(), actor
				if a.Role == string(policy.Student) {
					a.LeftAt = s.now() // a leaver: erased after the grace period
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return t.Audit(store.AuditRecord{Actor: actor, Action: "import.users",
			Detail: fmt.Sprintf("rows=%d created=%d moved=%d locked=%d unlocked=%d", res.Rows, len(res.Created), len(res.Moved), len(res.Locked), len(res.Unlocked))})
	})
	if err == nil {
		for _, n := range res.Locked {
			s.forget(n)
		}
	}
	return res, err
}

func (s *Service) applyChange(t *store.Tx, actor string, row Row, a *store.Account, mv *Move, m *matcher, form string) error {
	if mv != nil {
		for _, g := range m.classesOf(a.Name) {
			if _, err := t.RemoveFromGroup(g, store.AsMember, a.Name); err != nil {
				return err
			}
		}
		if _, err := t.AddToGroup(row.Class, store.AsMember, a.Name); err != nil {
			return err
		}
	}
	if row.Role == policy.Teacher && row.Class != "" && !m.inGroup(a.Name, row.Class) {
		if _, err := t.AddToGroup(row.Class, store.AsTeacher, a.Name); err != nil {
			return err
		}
	}
	var recorded []policy.ConsentScope
	_, err := t.UpdateAccount(a.Name, func(acc *store.Account) error {
		if row.ID != "" && acc.ExternalID == "" {
			acc.ExternalID = row.ID
		}
		if acc.Locked && strings.HasPrefix(acc.LockReason, syncLockPrefix) {
			acc.Locked, acc.LockReason, acc.LockedAt, acc.LockedBy = false, "", s.now(), actor
			acc.LeftAt = time.Time{}
		}
		if row.BirthDate != "" {
			acc.BirthDate = row.BirthDate
		}
		if row.Consent != nil {
			// Only consents the account lacks: a withdrawal is an act of
			// its own (`consent withdraw`), never a missing word in a file.
			add := ImportConsent{Platform: row.Consent.Platform && !acc.ConsentPlatform, Comms: row.Consent.Comms && !acc.ConsentComms}
			recorded = s.importConsent(acc, add, form, actor)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := auditImportedConsents(t, actor, a.Name, recorded, form); err != nil {
		return err
	}
	if row.ID != "" && a.ExternalID == "" {
		return t.SetExternalID(row.ID, a.Name)
	}
	return nil
}

type preparedRow struct {
	prepared
	line int
}

// planNames finds the account name each new person will get (the first
// candidate never given and not planned for an earlier row). A row whose
// name would be over account_name_bytes is refused with its line number
// (res.Refused); the rows that remain and their names are returned.
func (s *Service) planNames(rows []Row, res *ImportResult) ([]Row, []string, error) {
	var keep []Row
	var names []string
	planned := map[string]bool{}
	for _, row := range rows {
		base, _ := policy.AccountBase(row.First, row.Last)
		name := ""
		for n := 1; name == ""; n++ {
			if n > 10000 { // as the store gives up
				return nil, nil, fmt.Errorf("line %d: no free account name for %s", row.Line, base)
			}
			c := policy.AccountCandidate(base, n)
			if planned[c] {
				continue
			}
			given, err := s.Store.NameGiven(c)
			if err != nil {
				return nil, nil, err
			}
			if !given {
				name = c
			}
		}
		if d := s.engine().CheckAccountName(name); !d.Allow {
			res.Refused = append(res.Refused, RefusedRow{Line: row.Line, Name: name, Reason: d.String()})
			continue
		}
		planned[name] = true
		keep = append(keep, row)
		names = append(names, name)
	}
	return keep, names, nil
}

// prepareAll hashes the one-time passwords of new accounts on all cores.
func (s *Service) prepareAll(rows []Row, form string) ([]preparedRow, error) {
	out := make([]preparedRow, len(rows))
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := rows[i]
				var groups []string
				if r.Class != "" {
					groups = []string{r.Class}
				}
				p, err := s.prepare(NewUser{First: r.First, Last: r.Last, Role: r.Role, Groups: groups, ExternalID: r.ID,
					BirthDate: r.BirthDate, Consent: r.Consent, ConsentForm: form})
				out[i], errs[i] = preparedRow{prepared: p, line: r.Line}, err
			}
		}()
	}
	for i := range rows {
		next <- i
	}
	close(next)
	wg.Wait()
	return out, errors.Join(errs...)
}

// duplicateRows finds people listed twice: the same ID, or without IDs the
// same name in the same class (which a re-import could not tell apart).
func duplicateRows(rows []Row) []error {
	var errs []error
	byID := map[string]int{}
	byName := map[string]int{}
	for _, r := range rows {
		if r.ID != "" {
			if first, ok := byID[r.ID]; ok {
				errs = append(errs, fmt.Errorf("line %d: ID %q already on line %d", r.Line, r.ID, first))
			}
			byID[r.ID] = r.Line
			continue
		}
		k := nameKey(r.First, r.Last) + "\x00" + r.Class + "\x00" + string(r.Role)
		if first, ok := byName[k]; ok {
			errs = append(errs, fmt.Errorf("line %d: duplicate of line %d (%s %s, %s); add an ID column to tell them apart",
				r.Line, first, r.First, r.Last, r.Class))
		}
		byName[k] = r.Line
	}
	return errs
}

func nameKey(first, last string) string {
	return strings.ToLower(strings.TrimSpace(first)) + "\x00" + strings.ToLower(strings.TrimSpace(last))
}

// matcher finds the existing account of each row.
type matcher struct {
	byID    map[string]*store.Account
	byName  map[string][]*store.Account // name key + role
	groups  map[string]*store.Group
	classes map[string][]string // account → class groups it is a member of
}

func newMatcher(accounts []store.Account, groups []store.Group) *matcher {
	m := &matcher{byID: map[string]*store.Account{}, byName: map[string][]*store.Account{},
		groups: map[string]*store.Group{}, classes: map[string][]string{}}
	for i := range accounts {
		a := &accounts[i]
		if a.ExternalID != "" {
			m.byID[a.ExternalID] = a
		}
		k := nameKey(a.First, a.Last) + "\x00" + a.Role
		m.byName[k] = append(m.byName[k], a)
	}
	for i := range groups {
		g := &groups[i]
		m.groups[g.Name] = g
		if g.Kind == "class" {
			for _, n := range g.Members {
				m.classes[n] = append(m.classes[n], g.Name)
			}
		}
	}
	return m
}

func (m *matcher) inGroup(name, group string) bool {
	g, ok := m.groups[group]
	return ok && g.HasMember(name)
}

func (m *matcher) classesOf(name string) []string { return m.classes[name] }

func (m *matcher) classOf(name string) string { return strings.Join(m.classes[name], ",") }

// match returns, per row, the existing account or nil for a new person. An
// ID decides when given; otherwise the name (and role), narrowed by class
// when several people share a name, then by elimination.
func (m *matcher) match(rows []Row) ([]*store.Account, []error) {
	out := make([]*store.Account, len(rows))
	taken := map[string]bool{}
	var errs []error
	candidates := func(r Row) []*store.Account {
		var c []*store.Account
		for _, a := range m.byName[nameKey(r.First, r.Last)+"\x00"+string(r.Role)] {
			if !taken[a.Name] && (r.ID == "" || a.ExternalID == "") {
				c = append(c, a)
			}
		}
		return c
	}
	var open []int
	for i, r := range rows {
		if r.ID != "" {
			if a, ok := m.byID[r.ID]; ok {
				out[i], taken[a.Name] = a, true
				continue
			}
		}
		open = append(open, i)
	}
	// Pass 1: a unique name, or a unique name within the row's class.
	var rest []int
	for _, i := range open {
		r := rows[i]
		c := candidates(r)
		if len(c) > 1 && r.Class != "" {
			var in []*store.Account
			for _, a := range c {
				if m.inGroup(a.Name, r.Class) {
					in = append(in, a)
				}
			}
			c = in
		}
		if len(c) == 1 {
			out[i], taken[c[0].Name] = c[0], true
			continue
		}
		rest = append(rest, i)
	}
	// Pass 2: by elimination (one Max Müller left and one row for him).
	for _, i := range rest {
		r := rows[i]
		c := candidates(r)
		switch {
		case len(c) == 0:
			// a new person
		case len(c) == 1:
			out[i], taken[c[0].Name] = c[0], true
		default:
			names := make([]string, len(c))
			for j, a := range c {
				names[j] = a.Name
			}
			errs = append(errs, fmt.Errorf("line %d: %s %s could be any of %s; add an ID column to tell them apart",
				r.Line, r.First, r.Last, strings.Join(names, ", ")))
		}
	}
	return out, errs
}
