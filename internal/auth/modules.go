package auth

import (
	"log/slog"

	"schulhof/policy"
	"schulhof/store"
)

// Module decides MODULE-OFF for an account with the Verifier's settings:
// the login of every protocol asks it (Verify, by the attempt's Service),
// and SMTP asks it for each recipient (no mail for an account that cannot
// read it).
func (v *Verifier) Module(a *store.Account, m policy.Module) policy.Decision {
	if v.opt.Modules == nil {
		return policy.Allowed
	}
	return CheckModule(v.st, v.opt.Modules, a, m, v.opt.Logger)
}

// CheckModule is policy.CheckModule with the account's groups read from
// the store, and only when the module is limited to some groups (admins
// see every module that is on). The portal asks it too.
func CheckModule(st *store.Store, settings map[policy.Module]policy.ModuleSetting, a *store.Account, m policy.Module, log *slog.Logger) policy.Decision {
	set := settings[m]
	var groups []string
	if len(set.Groups) > 0 && a.Role != string(policy.Admin) {
		gs, err := st.GroupsOf(a.Name)
		if err != nil && log != nil {
			log.Error("module: groups", "account", a.Name, "err", err)
		}
		for _, g := range gs {
			groups = append(groups, g.Name)
		}
	}
	return policy.CheckModule(m, set, policy.Role(a.Role), groups)
}
