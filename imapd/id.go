package imapd

import "github.com/emersion/go-imap/v2"

// ID (RFC 2971): Thunderbird and Apple Mail send it right after the
// greeting. The answer names the product, not its version.
func (s *session) ID(*imap.IDData) *imap.IDData {
	return &imap.IDData{Name: "Schulhof"}
}
