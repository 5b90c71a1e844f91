package policy

import (
	"strings"
	"time"
)

// RecipientSize is one recipient of a message with the size exceptions in
// force for that recipient's own account.
type RecipientSize struct {
	Account    string
	Exceptions []SizeException
}

// CheckRecipientSizes applies SIZE-20MB to the recipients of one message
// of size bytes: SIZE-20MB is one rule for up- and downloads, so the
// sender's exception does not carry a message to recipients who could not
// receive it themselves (they would download it over IMAP while WebDAV
// refuses them the same size). It returns the recipients whose own limit
// is below size and the refusal naming them (via names as the client wrote
// them, e.g. "5a@…" for a group member, or the account).
func (e *Engine) CheckRecipientSizes(size int64, recipients []RecipientSize, now time.Time) ([]string, Decision) {
	if size <= e.MaxTransferBytes {
		return nil, Allowed // nobody's limit is below the default
	}
	var over []string
	limit := int64(-1)
	for _, r := range recipients {
		if l := e.TransferLimit(r.Exceptions, now); size > l {
			over = append(over, r.Account)
			if limit < 0 || l < limit {
				limit = l
			}
		}
	}
	if len(over) == 0 {
		return nil, Allowed
	}
	names := over
	more := ""
	if len(names) > 5 {
		names, more = names[:5], " …"
	}
	return over, Deny(Size20MB, "Die Nachricht (%s) ist für %d Empfänger zu groß (%s%s): Übertragungen über %s sind nicht erlaubt; Ausnahmen vergeben die Administratoren.",
		FormatBytes(size), len(over), strings.Join(names, ", "), more, FormatBytes(limit))
}
