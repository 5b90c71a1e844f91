package carddavd

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/emersion/go-vcard"

	"schulhof/internal/addressbook"
)

// card is one account's vCard: what the address book line shows (name,
// address, groups as CATEGORIES, nickname) and the fields vCard itself
// requires (VERSION, FN, N, and UID, which CardDAV requires). Nothing
// else: no birth date, no role, no login data.
func card(e *addressbook.Entry, domain, version string) vcard.Card {
	c := vcard.Card{}
	c.SetValue(vcard.FieldVersion, version)
	c.SetValue(vcard.FieldUID, uid(domain, e.Account))
	c.SetValue(vcard.FieldFormattedName, e.Name)
	// go-vcard does not escape the component separator: a ";" in a name
	// would shift the components.
	semi := strings.NewReplacer(";", ",")
	c.SetName(&vcard.Name{FamilyName: semi.Replace(e.Last), GivenName: semi.Replace(e.First)})
	email := &vcard.Field{Value: e.Address}
	if version == "3.0" {
		email.Params = vcard.Params{vcard.ParamType: {"INTERNET"}}
	}
	c.Add(vcard.FieldEmail, email)
	if e.Nickname != "" {
		c.SetValue(vcard.FieldNickname, e.Nickname)
	}
	// One CATEGORIES line per group: go-vcard escapes every comma, so a
	// joined list would read as one category.
	for _, g := range e.Groups {
		c.Add(vcard.FieldCategories, &vcard.Field{Value: g})
	}
	return c
}

// etag changes exactly when what the card shows changes (name, nickname,
// groups, address), and is the same for the 3.0 and 4.0 form: a client
// that lists ETags with PROPFIND and fetches vCard 4.0 with a REPORT
// must see the same one, or it would fetch every card at every sync.
func etag(e *addressbook.Entry) string {
	h := sha256.New()
	for _, f := range []string{e.Account, e.First, e.Last, e.Address, e.Nickname} {
		fmt.Fprintf(h, "%d:%s", len(f), f)
	}
	for _, g := range e.Groups {
		fmt.Fprintf(h, "g%d:%s", len(g), g)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// uid is a name-based UUID (RFC 9562 version 5) of the account in the
// school's domain: stable across restarts and exports, and, since account
// names are never given twice, never another person's.
func uid(domain, account string) string {
	h := sha1.New()
	h.Write(uuidNamespaceURL[:])
	h.Write([]byte("schulhof:" + domain + ":" + account))
	s := h.Sum(nil)[:16]
	s[6] = s[6]&0x0f | 0x50
	s[8] = s[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// uuidNamespaceURL is RFC 9562's namespace ID for URLs.
var uuidNamespaceURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
