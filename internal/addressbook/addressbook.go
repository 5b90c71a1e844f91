// Package addressbook is the shared address book of the school
// (Nutzungsordnung, Verhaltensregeln: "Die im gemeinsamen Adressbuch
// eingegebenen Daten sind für alle Nutzer sichtbar"): what one line of it
// shows of an account. The portal's page and the CardDAV address book
// (carddavd) both build their lines here, so they show the same data:
// name, address, groups, nickname, and nothing else of the account.
package addressbook

import "schulhof/store"

// Entry is one line of the address book.
type Entry struct {
	Account     string // the account name (vorname.nachname)
	First, Last string
	Name        string // "First Last"
	Address     string // account@domain
	Nickname    string // voluntary, chosen in the portal
	Groups      []string
	// Color and Role are shown by the portal only (the colour of the
	// name in chat, the role in the group page); CardDAV leaves them out.
	Color, Role string
}

// New makes the line of one account; groups are its groups, sorted.
func New(p *store.Person, groups []string, domain string) Entry {
	return Entry{Account: p.Name, First: p.First, Last: p.Last, Name: p.First + " " + p.Last,
		Address: p.Name + "@" + domain, Nickname: p.Nickname, Groups: groups, Color: p.Color, Role: p.Role}
}

// All is every account's line, sorted by account name. Everyone who may
// open the address book (MODULE-OFF aside) sees all of them: the
// Nutzungsordnung makes the shared address book visible to all users.
// Locked accounts stay: their address still receives mail.
func All(st *store.Store, domain string) ([]Entry, error) {
	people, err := st.People()
	if err != nil {
		return nil, err
	}
	of, err := st.Memberships()
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(people))
	for i := range people {
		out[i] = New(&people[i], of[people[i].Name], domain)
	}
	return out, nil
}
