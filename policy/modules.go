package policy

import "slices"

// Module is one part of the platform a school switches on or off
// (Nutzungsmöglichkeiten).
type Module string

const (
	ModuleMail        Module = "mail"
	ModuleFiles       Module = "files"
	ModuleChat        Module = "chat"
	ModuleAddressBook Module = "addressbook"
	ModuleHomework    Module = "homework"
	ModuleForum       Module = "forum"
	ModuleCalendar    Module = "calendar"
)

// Modules lists the modules in the order the portal shows them.
var Modules = []Module{ModuleChat, ModuleForum, ModuleAddressBook, ModuleHomework, ModuleCalendar, ModuleMail, ModuleFiles}

// ModuleSetting is one module's switch: on or off, and if Groups is not
// empty, only for members and teachers of those groups.
type ModuleSetting struct {
	On     bool
	Groups []string
}

// CheckModule decides whether a module is on for an account that belongs
// to groups. Admins see every module that is on for anyone.
func CheckModule(m Module, s ModuleSetting, role Role, groups []string) Decision {
	if s.On && (len(s.Groups) == 0 || role == Admin) {
		return Allowed
	}
	if s.On {
		for _, g := range groups {
			if slices.Contains(s.Groups, g) {
				return Allowed
			}
		}
	}
	return Deny(ModuleOff, "Das Modul %q ist für diese Schule oder Gruppe nicht eingeschaltet.", string(m))
}

// Module is the module a login for the service uses; the web login (the
// portal, the password change) belongs to none: every account has it.
func (s Service) Module() Module {
	switch s {
	case ServiceMail:
		return ModuleMail
	case ServiceFiles:
		return ModuleFiles
	case ServiceChat:
		return ModuleChat
	case ServiceContacts:
		return ModuleAddressBook
	case ServiceCalendar:
		return ModuleCalendar
	}
	return ""
}
