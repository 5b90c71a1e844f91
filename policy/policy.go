// Package policy turns the school's usage rules (the Nutzungsordnung) into
// decisions. It is pure: callers hand in facts (account, roles, sizes, time)
// and get a Decision back. It never touches disk or network, and it imports
// nothing of Schulhof's own.
//
// Every refusal names a rule ID from the table in rules.go; daemons turn a
// Decision into their protocol's error at their edge.
package policy

import "fmt"

// Decision is the answer to one question put to the policy.
type Decision struct {
	Allow  bool
	Rule   Rule   // set on refusals (and on allowances granted by an exception)
	Reason string // short, human readable, German by default
}

// Allowed is the decision that lets a request through.
var Allowed = Decision{Allow: true}

// Deny builds a refusal naming its rule.
func Deny(rule Rule, format string, args ...any) Decision {
	return Decision{Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

// String renders the decision the way every protocol shows it:
// "[RULE] reason".
func (d Decision) String() string {
	if d.Allow {
		return "allowed"
	}
	return fmt.Sprintf("[%s] %s", d.Rule, d.Reason)
}

// Err returns nil for an allowance and an error carrying the decision for a
// refusal, so callers can pass it up and unwrap it at the protocol edge.
func (d Decision) Err() error {
	if d.Allow {
		return nil
	}
	return &RefusalError{Decision: d}
}

// RefusalError carries a refusal through code that deals in errors.
type RefusalError struct{ Decision Decision }

func (e *RefusalError) Error() string { return e.Decision.String() }

// Engine holds the configurable parts of the rules (limits per role, the
// size limit). Its methods are pure functions of the facts and the config.
type Engine struct {
	// MaxTransferBytes is the SIZE-20MB limit: uploads and downloads larger
	// than this are refused unless an exception is in force.
	MaxTransferBytes int64

	bounds map[BoundKey]int64 // overrides of BoundTable's defaults (bounds.go)
}

// NewEngine returns an engine with the Nutzungsordnung's defaults.
func NewEngine() *Engine {
	return &Engine{MaxTransferBytes: DefaultMaxTransferBytes}
}
