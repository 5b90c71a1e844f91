package auth

import (
	"schulhof/policy"
	"schulhof/store"
)

// Module decides MODULE-OFF for an account with policy.CheckModule: the
// login of every protocol asks it (Verify, by the attempt's Service), and
// SMTP asks it for each recipient (no mail for an account that cannot
// read it). Groups are read only when the module is limited to some.
func (v *Verifier) Module(a *store.Account, m policy.Module) policy.Decision {
	if v.opt.Modules == nil {
		return policy.Allowed
	}
	set := v.opt.Modules[m]
	var groups []string
	if len(set.Groups) > 0 && a.Role != string(policy.Admin) {
		gs, err := v.st.GroupsOf(a.Name)
		if err != nil {
			v.opt.Logger.Error("module: groups", "account", a.Name, "err", err)
		}
		for _, g := range gs {
			groups = append(groups, g.Name)
		}
	}
	return policy.CheckModule(m, set, policy.Role(a.Role), groups)
}
