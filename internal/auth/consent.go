package auth

import (
	"schulhof/policy"
	"schulhof/store"
)

// Facts are the login facts of an account, for policy.CheckLogin and
// policy.SessionAllowed.
func Facts(a *store.Account) policy.LoginFacts {
	return policy.LoginFacts{Locked: a.Locked, LockReason: a.LockReason, MustChange: a.MustChange,
		ConsentPlatform: a.ConsentPlatform, ConsentComms: a.ConsentComms}
}

// SessionAllowed decides whether an open session of svc may go on for the
// account as it is now (after a lock or a withdrawn consent). Every daemon
// asks it when the change feed reports the account changed.
func SessionAllowed(a *store.Account, svc policy.Service) policy.Decision {
	return policy.SessionAllowed(Facts(a), svc)
}
