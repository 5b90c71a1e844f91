package auth

import (
	"context"
	"errors"

	"schulhof/policy"
	"schulhof/store"
)

// ChangePassword is a user's own password change: the current password
// must be right (a must-change account may do exactly this), the new one
// must pass PW-STRENGTH and differ from the current one. Must-change is
// cleared and cached verifications of the old password end.
func (v *Verifier) ChangePassword(ctx context.Context, at Attempt, newPassword string) policy.Decision {
	at.Purpose = policy.PurposeChangePassword
	a, d := v.Verify(ctx, at)
	if !d.Allow {
		return d
	}
	if d := policy.CheckPassword(newPassword, policy.PasswordFacts{FirstName: a.First, LastName: a.Last, AccountName: a.Name}); !d.Allow {
		return d
	}
	if newPassword == at.Password {
		return policy.Deny(policy.PWStrength, "Das neue Passwort muss sich vom bisherigen unterscheiden.")
	}
	hash, err := HashPassword(newPassword, UserParams)
	if err != nil {
		v.opt.Logger.Error("hash password", "err", err)
		return policy.Deny(policy.AuthFailed, "Das Passwort konnte nicht gespeichert werden.")
	}
	oldHash := a.PasswordHash
	_, err = v.st.UpdateAccount(a.Name, func(acc *store.Account) error {
		if acc.PasswordHash != oldHash { // changed meanwhile by an admin
			return errChangedMeanwhile
		}
		acc.PasswordHash, acc.MustChange = hash, false
		return nil
	})
	if err != nil {
		return policy.Deny(policy.AuthFailed, "Das Passwort wurde inzwischen geändert; bitte erneut anmelden.")
	}
	v.Forget(a.Name)
	v.opt.Logger.Info("password changed", "account", a.Name, "protocol", at.Protocol, "ip", at.IP)
	return policy.Allowed
}

var errChangedMeanwhile = errors.New("password changed meanwhile")
