package store

import "time"

// ConsentRecord is one consent of the Einwilligung form as the school
// recorded it: who signed, on which day, which version of the form, who
// entered it, and its withdrawal. The account keeps the current record
// per consent; the audit log keeps every change.
type ConsentRecord struct {
	GivenOn     string    `json:"given_on"` // day on the form, YYYY-MM-DD
	GivenBy     string    `json:"given_by"` // policy.Signer: eltern, selbst, beide
	Form        string    `json:"form"`     // version of the form
	RecordedAt  time.Time `json:"recorded_at"`
	RecordedBy  string    `json:"recorded_by"`
	WithdrawnAt time.Time `json:"withdrawn_at,omitzero"`
	WithdrawnBy string    `json:"withdrawn_by,omitempty"`
}

// Active reports whether the consent is given and not withdrawn.
func (c *ConsentRecord) Active() bool { return c != nil && c.WithdrawnAt.IsZero() }
