package mailmsg

import (
	"strings"

	"github.com/emersion/go-message/mail"
)

// ParseAddressList reads an address header value as IMAP's ENVELOPE shows
// it (RFC 3501 §7.4.2): a group "name: a, b;" becomes a start marker
// (Mailbox = the group's name, no Host), its members, and an end marker
// (all empty). Comments are dropped (RFC 5322 §3.2.2 CFWS may stand
// inside an addr-spec); a comment after a bare address names it. An
// address that does not parse is skipped, the others stay.
func ParseAddressList(value string) []Address {
	var out []Address
	var item strings.Builder
	var comment strings.Builder
	inGroup := false
	flush := func() {
		if a, ok := parseOne(item.String(), comment.String()); ok {
			out = append(out, a)
		}
		item.Reset()
		comment.Reset()
	}
	depth, quoted, angle := 0, false, false
	keep := false // the comment may name the address (not inside <>)
	for i := 0; i < len(value); i++ {
		c := value[i]
		switch {
		case depth > 0: // inside a comment
			switch c {
			case '\\':
				if i+1 < len(value) {
					i++
					if keep {
						comment.WriteByte(value[i])
					}
				}
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					item.WriteByte(' ')
				}
			default:
				if keep {
					comment.WriteByte(c)
				}
			}
		case quoted:
			item.WriteByte(c)
			if c == '\\' && i+1 < len(value) {
				i++
				item.WriteByte(value[i])
			} else if c == '"' {
				quoted = false
			}
		case c == '"':
			quoted = true
			item.WriteByte(c)
		case c == '(':
			depth, keep = 1, !angle
			if keep {
				comment.Reset()
			}
		case c == '<':
			angle = true
			item.WriteByte(c)
		case c == '>':
			angle = false
			item.WriteByte(c)
		case angle:
			item.WriteByte(c)
		case c == ':' && !inGroup:
			name := strings.TrimSpace(item.String())
			if dec, err := wordDecoder.DecodeHeader(name); err == nil {
				name = dec
			}
			out = append(out, Address{Mailbox: strings.Trim(name, `"`)})
			inGroup = true
			item.Reset()
			comment.Reset()
		case c == ';' && inGroup:
			flush()
			out = append(out, Address{})
			inGroup = false
		case c == ',':
			flush()
		default:
			item.WriteByte(c)
		}
	}
	flush()
	if inGroup {
		out = append(out, Address{}) // an unterminated group still ends
	}
	return out
}

func parseOne(s, comment string) (Address, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, false
	}
	// The comments are gone; "user @ domain" is one addr-spec again.
	route := ""
	if !strings.ContainsAny(s, `<"`) {
		s = strings.Join(strings.Fields(s), "")
	} else if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			inner := strings.Join(strings.Fields(s[i+1:i+j]), "")
			if r, rest, ok := strings.Cut(inner, ":"); ok && strings.HasPrefix(r, "@") {
				route, inner = r, rest // <@route:user@domain>
			}
			s = s[:i] + "<" + inner + ">" + s[i+j+1:]
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return Address{}, false
	}
	mbox, host, ok := strings.Cut(a.Address, "@")
	if !ok {
		return Address{}, false
	}
	name := a.Name
	if name == "" {
		name = strings.TrimSpace(comment)
	}
	return Address{Name: name, Route: route, Mailbox: mbox, Host: host}, true
}

// AddressText is the searchable text of an address: name and address.
func (a Address) AddressText() string {
	if a.Host == "" {
		return a.Name + " " + a.Mailbox
	}
	return a.Name + " <" + a.Mailbox + "@" + a.Host + ">"
}
