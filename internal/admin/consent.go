package admin

import (
	"fmt"
	"strings"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// Einwilligung: the school records the signed forms (`consent record`),
// and a withdrawal (`consent withdraw`) closes what it covered at once and
// erases what the person stored there.

// ConsentForm is one signed consent form as the office enters it.
type ConsentForm struct {
	Scope policy.ConsentScope
	By    string // eltern, schueler, beide (policy.ParseSigner)
	Date  string // day of the signature, YYYY-MM-DD
	Form  string // version of the form
}

// maxFormVersion bounds the form's version text.
const maxFormVersion = 64

// dateLayout is the day format of the CLI and the store.
const dateLayout = "2006-01-02"

// consentFacts are the facts policy needs about an account's signer.
func consentFacts(a *store.Account, on time.Time) policy.ConsentFacts {
	f := policy.ConsentFacts{Role: policy.Role(a.Role), On: on}
	if a.BirthDate != "" {
		if b, err := time.Parse(dateLayout, a.BirthDate); err == nil {
			f.Birth = b
		}
	}
	return f
}

// RecordConsent records a consent given on a signed form. The signer must
// be the one the person's age asks for (CONSENT-PLATFORM, CONSENT-COMMS);
// the change and who made it go to the audit log.
func (s *Service) RecordConsent(actor, name string, f ConsentForm) (*store.Account, error) {
	by, ok := policy.ParseSigner(strings.ToLower(strings.TrimSpace(f.By)))
	if !ok {
		return nil, fmt.Errorf("--by %q: eltern, schueler oder beide", f.By)
	}
	on, err := time.Parse(dateLayout, f.Date)
	if err != nil {
		return nil, fmt.Errorf("--date %q: Datum als JJJJ-MM-TT", f.Date)
	}
	if on.After(s.now()) {
		return nil, fmt.Errorf("--date %s liegt in der Zukunft", f.Date)
	}
	form := strings.TrimSpace(f.Form)
	if form == "" || len(form) > maxFormVersion || strings.ContainsFunc(form, func(r rune) bool { return r < ' ' }) {
		return nil, fmt.Errorf("--form: die Version des Formulars ist nötig (höchstens %d Zeichen)", maxFormVersion)
	}
	rec := &store.ConsentRecord{GivenOn: f.Date, GivenBy: string(by), Form: form, RecordedAt: s.now(), RecordedBy: actor}
	var out *store.Account
	err = s.Store.Update(func(t *store.Tx) error {
		a, err := t.UpdateAccount(name, func(a *store.Account) error {
			if d := policy.CheckConsentSigner(f.Scope, consentFacts(a, on), by); !d.Allow {
				return refused(d)
			}
			setConsent(a, f.Scope, rec)
			return nil
		})
		if err != nil {
			return notFound(err, "user", name)
		}
		out = a
		return t.Audit(store.AuditRecord{Actor: actor, Action: "consent.record", Target: name,
			Detail: fmt.Sprintf("scope=%s by=%s date=%s form=%s", f.Scope, by, f.Date, form)})
	})
	if err != nil {
		return nil, err
	}
	s.forget(name)
	out.PasswordHash = ""
	return out, nil
}

// setConsent stores a consent record and keeps the login's fast check in
// line with it.
func setConsent(a *store.Account, scope policy.ConsentScope, rec *store.ConsentRecord) {
	if scope == policy.ScopeComms {
		a.CommsConsent, a.ConsentComms = rec, rec.Active()
	} else {
		a.PlatformConsent, a.ConsentPlatform = rec, rec.Active()
	}
}

// Withdrawal is what a withdrawal did.
type Withdrawal struct {
	Account string               `json:"account"`
	Scope   policy.ConsentScope  `json:"scope"`
	At      time.Time            `json:"at"`
	Report  *store.ErasureReport `json:"report,omitempty"`
}

// WithdrawConsent records a withdrawal. In the same transaction the
// account loses the consent: every login of what it covered is refused
// from then on (CONSENT-PLATFORM everywhere, CONSENT-COMMS for mail and
// chat), and the daemons end the open sessions on the change feed's
// event. Then what the person stored under the consent is erased.
func (s *Service) WithdrawConsent(actor, name string, scope policy.ConsentScope) (Withdrawal, error) {
	w := Withdrawal{Account: name, Scope: scope, At: s.now()}
	err := s.Store.Update(func(t *store.Tx) error {
		_, err := t.UpdateAccount(name, func(a *store.Account) error {
			rec := a.PlatformConsent
			given := a.ConsentPlatform
			if scope == policy.ScopeComms {
				rec, given = a.CommsConsent, a.ConsentComms
			}
			if !given && !rec.Active() {
				return fmt.Errorf("%s hat keine Einwilligung (%s), die widerrufen werden könnte", name, scope.Text())
			}
			if rec == nil {
				rec = &store.ConsentRecord{} // given before records were kept
			} else {
				c := *rec
				rec = &c
			}
			rec.WithdrawnAt, rec.WithdrawnBy = w.At, actor
			setConsent(a, scope, rec)
			return nil
		})
		if err != nil {
			return notFound(err, "user", name)
		}
		return t.Audit(store.AuditRecord{Actor: actor, Action: "consent.withdraw", Target: name,
			Detail: fmt.Sprintf("scope=%s", scope)})
	})
	if err != nil {
		return w, err
	}
	s.forget(name)
	es := store.ErasePlatform
	if scope == policy.ScopeComms {
		es = store.EraseComms
	}
	// The erasure writes its own audit record with the report
	// ("privacy.erase"); a platform erasure removes the account record
	// last, so a failure half-way leaves it refused and is finished by
	// running the erasure again (`user delete`).
	w.Report, err = s.Store.EraseAccountBy(actor, name, es)
	s.forget(name)
	if err != nil {
		return w, fmt.Errorf("Einwilligung widerrufen und Zugang gesperrt, aber das Löschen schlug fehl (mit 'schulhof user delete %s' wiederholen): %w", name, err)
	}
	return w, nil
}

// ConsentStatus is one consent of an account, for `consent show` and
// "Mein Konto".
type ConsentStatus struct {
	Scope  policy.ConsentScope  `json:"scope"`
	Given  bool                 `json:"given"`
	Record *store.ConsentRecord `json:"record,omitempty"`
}

// ConsentInfo is what `consent show` prints.
type ConsentInfo struct {
	Account   string          `json:"account"`
	Role      string          `json:"role"`
	BirthDate string          `json:"birth_date,omitempty"`
	Needed    string          `json:"needed"` // who must sign today, in German
	Consents  []ConsentStatus `json:"consents"`
}

// ShowConsent returns both consents of an account and who must sign a
// new form today.
func (s *Service) ShowConsent(name string) (ConsentInfo, error) {
	a, err := s.Store.Account(name)
	if err != nil {
		return ConsentInfo{}, notFound(err, "user", name)
	}
	f := consentFacts(a, s.now())
	need, why := policy.RequiredSigner(f)
	return ConsentInfo{Account: a.Name, Role: a.Role, BirthDate: a.BirthDate,
		Needed: fmt.Sprintf("%s (%s)", policy.SignerText(need, f.Role), why),
		Consents: []ConsentStatus{
			{Scope: policy.ScopePlatform, Given: a.ConsentPlatform, Record: a.PlatformConsent},
			{Scope: policy.ScopeComms, Given: a.ConsentComms, Record: a.CommsConsent},
		}}, nil
}

// importConsent records the consents of an import's Einwilligung column
// on a (new or existing) account and returns the scopes recorded. The
// school's office holds the signed forms; the import says that the right
// people signed (policy.RequiredSigner for the age), on the import's day.
func (s *Service) importConsent(a *store.Account, c ImportConsent, form, actor string) []policy.ConsentScope {
	var out []policy.ConsentScope
	now := s.now()
	by, _ := policy.RequiredSigner(consentFacts(a, now))
	for _, sc := range []struct {
		scope policy.ConsentScope
		given bool
	}{{policy.ScopePlatform, c.Platform}, {policy.ScopeComms, c.Comms}} {
		if !sc.given {
			continue
		}
		setConsent(a, sc.scope, &store.ConsentRecord{GivenOn: now.Format(dateLayout), GivenBy: string(by), Form: form,
			RecordedAt: now, RecordedBy: actor})
		out = append(out, sc.scope)
	}
	return out
}

// auditImportedConsents leaves one consent.record per consent an import
// recorded.
func auditImportedConsents(t *store.Tx, actor, name string, scopes []policy.ConsentScope, form string) error {
	for _, sc := range scopes {
		if err := t.Audit(store.AuditRecord{Actor: actor, Action: "consent.record", Target: name,
			Detail: fmt.Sprintf("scope=%s source=import form=%s", sc, form)}); err != nil {
			return err
		}
	}
	return nil
}
