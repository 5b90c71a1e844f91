package store

import (
	"encoding/json"
	"strings"
)

// The account's part of an export: the account record as stored, split
// by the Nutzungsordnung's categories into konto.json (necessary and
// automatic data), einwilligungen.json (the consents with who gave them,
// when and on which form) and freiwillige-angaben.json (nickname, colour,
// settings); and the group memberships in gruppen.json. The password
// hash is never exported: it is no information about the person, and a
// copy of it would only help someone guess the password.

func init() {
	registerExport("accounts", exportAccount)
	registerExport("groups", exportGroups)
}

// voluntaryFields are the Account fields of category 6.
var voluntaryFields = []string{"nickname", "color", "settings"}

func exportAccount(s *Store, account string, out ExportSink) error {
	a, err := s.Account(account)
	if err != nil {
		return err
	}
	a.PasswordHash = ""
	raw, err := json.Marshal(a)
	if err != nil {
		return err
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	delete(fields, "password_hash")
	consents, voluntary := map[string]any{}, map[string]any{}
	for k, v := range fields {
		if strings.Contains(k, "consent") {
			consents[k] = v
			delete(fields, k)
		}
	}
	for _, k := range voluntaryFields {
		if v, ok := fields[k]; ok {
			voluntary[k] = v
			delete(fields, k)
		}
	}
	if err := writeJSON(out, "konto.json", fields); err != nil {
		return err
	}
	if err := writeJSON(out, "einwilligungen.json", consents); err != nil {
		return err
	}
	return writeJSON(out, "freiwillige-angaben.json", voluntary)
}

// exportGroups lists the person's groups (not the other members: they
// are the others' data).
func exportGroups(s *Store, account string, out ExportSink) error {
	type membership struct {
		Group string `json:"gruppe"`
		Kind  string `json:"art"`
		Role  string `json:"rolle"` // Mitglied or Lehrkraft
	}
	groups, err := s.GroupsOf(account)
	if err != nil {
		return err
	}
	member := []membership{}
	for _, g := range groups {
		m := membership{Group: g.Name, Kind: g.Kind, Role: "Mitglied"}
		if g.IsTeacher(account) {
			m.Role = "Lehrkraft"
		}
		member = append(member, m)
	}
	return writeJSON(out, "gruppen.json", member)
}
