package config

import (
	"fmt"
	"time"

	"schulhof/policy"
)

// Portal configures the browser portal's sessions.
type Portal struct {
	// Minutes without a request after which a web session ends.
	SessionIdleMinutes int `toml:"session_idle_minutes"`
	// Hours after login at which a web session ends in any case.
	SessionMaxHours int `toml:"session_max_hours"`
}

// Chat configures chatd.
type Chat struct {
	// DirectMessages says per role with whom a direct conversation may be
	// opened: "none", "group" (people one shares a group with) or "all".
	DirectMessages map[string]string `toml:"direct_messages"`
}

// Modules are the Nutzungsmöglichkeiten the school switches on. Groups
// limits a module to members and teachers of the groups listed.
type Modules struct {
	Chat        bool                `toml:"chat"`
	AddressBook bool                `toml:"addressbook"`
	Forum       bool                `toml:"forum"`
	Mail        bool                `toml:"mail"`
	Files       bool                `toml:"files"`
	Homework    bool                `toml:"homework"`
	Calendar    bool                `toml:"calendar"` // group calendars: portal and CalDAV
	Groups      map[string][]string `toml:"groups"`
}

func defaultPortal() Portal { return Portal{SessionIdleMinutes: 120, SessionMaxHours: 12} }

func defaultModules() Modules {
	return Modules{Chat: true, AddressBook: true, Forum: true, Mail: true, Files: true, Homework: true, Calendar: true}
}

// Idle and Max are the session lifetimes.
func (p Portal) Idle() time.Duration { return time.Duration(p.SessionIdleMinutes) * time.Minute }
func (p Portal) Max() time.Duration  { return time.Duration(p.SessionMaxHours) * time.Hour }

// Settings converts the section for policy.CheckModule.
func (m Modules) Settings() map[policy.Module]policy.ModuleSetting {
	on := map[policy.Module]bool{policy.ModuleChat: m.Chat, policy.ModuleAddressBook: m.AddressBook,
		policy.ModuleForum: m.Forum, policy.ModuleHomework: m.Homework,
		policy.ModuleMail: m.Mail, policy.ModuleFiles: m.Files, policy.ModuleCalendar: m.Calendar}
	out := map[policy.Module]policy.ModuleSetting{}
	for mod, o := range on {
		out[mod] = policy.ModuleSetting{On: o, Groups: m.Groups[string(mod)]}
	}
	return out
}

// Scopes converts [chat] direct_messages over the defaults.
func (c Chat) Scopes() map[policy.Role]policy.DirectScope {
	out := policy.DefaultDirectScopes()
	for r, s := range c.DirectMessages {
		out[policy.Role(r)] = policy.DirectScope(s)
	}
	return out
}

func (c *Config) validatePortal() error {
	if c.Portal.SessionIdleMinutes < 1 || c.Portal.SessionMaxHours < 1 {
		return fmt.Errorf("config: portal.session_idle_minutes and session_max_hours must be at least 1")
	}
	for r, s := range c.Chat.DirectMessages {
		if _, d := policy.ParseRole(r); !d.Allow {
			return fmt.Errorf("config: chat.direct_messages: unknown role %q", r)
		}
		if err := policy.ValidDirectScope(s); err != nil {
			return fmt.Errorf("config: chat.%w", err)
		}
	}
	for mod := range c.Modules.Groups {
		known := false
		for _, m := range policy.Modules {
			known = known || string(m) == mod
		}
		if !known {
			return fmt.Errorf("config: modules.groups: unknown module %q", mod)
		}
	}
	return nil
}
