package imapserver

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// SessionID is a session that answers the ID command (RFC 2971) with its
// own identification. Sessions without it answer "* ID NIL".
type SessionID interface {
	// ID receives the client's identification (nil for ID NIL) and
	// returns the server's (nil for NIL).
	ID(client *imap.IDData) *imap.IDData
}

// RFC 2971 section 3.3: at most 30 pairs, fields of at most 30 octets and
// values of at most 1024.
const (
	idMaxPairs    = 30
	idMaxFieldLen = 30
	idMaxValueLen = 1024
)

func (c *Conn) handleID(dec *imapwire.Decoder) error {
	if !dec.ExpectSP() {
		return dec.Err()
	}
	var client *imap.IDData
	var atom string
	if dec.Atom(&atom) {
		if !dec.Expect(atom == "NIL", "NIL") {
			return dec.Err()
		}
	} else {
		client = &imap.IDData{}
		var key string
		pairs, haveKey := 0, false
		err := dec.ExpectList(func() error {
			if !haveKey {
				if !dec.ExpectString(&key) {
					return dec.Err()
				}
				if len(key) > idMaxFieldLen {
					return newClientBugError("ID field name too long")
				}
				haveKey = true
				return nil
			}
			var value string
			if !dec.ExpectNString(&value) {
				return dec.Err()
			}
			if len(value) > idMaxValueLen {
				return newClientBugError("ID field value too long")
			}
			if pairs++; pairs > idMaxPairs {
				return newClientBugError("Too many ID fields")
			}
			setIDField(client, key, value)
			haveKey = false
			return nil
		})
		if err != nil {
			return err
		}
		if haveKey {
			return newClientBugError("ID field without value")
		}
	}
	if !dec.ExpectCRLF() {
		return dec.Err()
	}

	var server *imap.IDData
	if session, ok := c.session.(SessionID); ok {
		server = session.ID(client)
	}
	return c.writeID(server)
}

func setIDField(data *imap.IDData, key, value string) {
	switch key {
	case "name":
		data.Name = value
	case "version":
		data.Version = value
	case "os":
		data.OS = value
	case "os-version":
		data.OSVersion = value
	case "vendor":
		data.Vendor = value
	case "support-url":
		data.SupportURL = value
	case "address":
		data.Address = value
	case "date":
		data.Date = value
	case "command":
		data.Command = value
	case "arguments":
		data.Arguments = value
	case "environment":
		data.Environment = value
	}
}

func (c *Conn) writeID(data *imap.IDData) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("ID").SP()
	if data == nil {
		enc.NIL()
		return enc.CRLF()
	}
	var kv []string
	for _, f := range []struct{ k, v string }{
		{"name", data.Name}, {"version", data.Version}, {"os", data.OS},
		{"os-version", data.OSVersion}, {"vendor", data.Vendor},
		{"support-url", data.SupportURL}, {"address", data.Address},
		{"date", data.Date}, {"command", data.Command},
		{"arguments", data.Arguments}, {"environment", data.Environment},
	} {
		if f.v != "" {
			kv = append(kv, f.k, f.v)
		}
	}
	if len(kv) == 0 {
		enc.NIL()
		return enc.CRLF()
	}
	enc.List(len(kv), func(i int) { enc.String(kv[i]) })
	return enc.CRLF()
}
