// Package admin carries out the school admin's actions (the CLI's verbs)
// on the store: it checks them against policy, writes them in one
// transaction each, and leaves an audit record for every change.
package admin

import (
	"errors"
	"fmt"
	"time"

	"schulhof/internal/auth"
	"schulhof/policy"
	"schulhof/store"
)

// Service is shared by the admin socket and the CLI's local mode.
type Service struct {
	Store  *store.Store
	Policy *policy.Engine
	Auth   *auth.Verifier // may be nil in local mode: no cache to drop
	Domain string
	// DefaultConsentComms is recorded for new accounts (config).
	DefaultConsentComms bool
	// InspectView is how long an approved inspection can be viewed
	// (0: policy.DefaultInspectView).
	InspectView time.Duration
	// LeaverGrace is [privacy] leaver_grace_days (0: DefaultLeaverGrace).
	LeaverGrace time.Duration
	Now         func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// engine is the policy in force (defaults when none is configured).
func (s *Service) engine() *policy.Engine {
	if s.Policy != nil {
		return s.Policy
	}
	return policy.NewEngine()
}

// Address is an account's or group's mail address.
func (s *Service) Address(name string) string { return name + "@" + s.Domain }

// refused turns a policy refusal into an error for the CLI.
func refused(d policy.Decision) error { return d.Err() }

// notFound rewrites store.ErrNotFound into a one-line error for people.
func notFound(err error, what, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unknown %s %q", what, name)
	}
	return err
}

func (s *Service) forget(name string) {
	if s.Auth != nil {
		s.Auth.Forget(name)
	}
}
