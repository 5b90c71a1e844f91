package imapclient

import (
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// QRESYNC (RFC 7162 section 3.2), client side: the SELECT parameter, the
// VANISHED response and the MODIFIED response code of STORE.

// writeSelectParams writes SELECT's optional (CONDSTORE) and
// (QRESYNC (...)) parameters.
func writeSelectParams(enc *imapwire.Encoder, options *imap.SelectOptions) {
	if options == nil || (!options.CondStore && options.QResync == nil) {
		return
	}
	enc.SP().Special('(')
	if options.CondStore {
		enc.Atom("CONDSTORE")
		if options.QResync != nil {
			enc.SP()
		}
	}
	if q := options.QResync; q != nil {
		enc.Atom("QRESYNC").SP().Special('(').Number(q.UIDValidity).SP().ModSeq(q.ModSeq)
		if len(q.KnownUIDs) > 0 {
			enc.SP().NumSet(q.KnownUIDs)
		}
		if m := q.SeqMatch; m != nil {
			enc.SP().Special('(').NumSet(m.SeqNums).SP().NumSet(m.UIDs).Special(')')
		}
		enc.Special(')')
	}
	enc.Special(')')
}

// handleVanished reads "VANISHED [(EARLIER)] known-uids" and passes it to
// UnilateralDataHandler.Vanished. A VANISHED without EARLIER reports
// messages removed now, so the mailbox's message count drops.
func (c *Client) handleVanished() error {
	if !c.dec.ExpectSP() {
		return c.dec.Err()
	}
	earlier := false
	if c.dec.Special('(') {
		var atom string
		if !c.dec.ExpectAtom(&atom) || !c.dec.ExpectSpecial(')') || !c.dec.ExpectSP() {
			return c.dec.Err()
		}
		earlier = atom == "EARLIER" || atom == "earlier"
	}
	var uids imap.UIDSet
	if !c.dec.ExpectUIDSet(&uids) {
		return c.dec.Err()
	}
	if !earlier {
		n, _ := uids.Nums()
		c.mutex.Lock()
		if c.state == imap.ConnStateSelected {
			c.mailbox = c.mailbox.copy()
			if k := uint32(len(n)); k < c.mailbox.NumMessages {
				c.mailbox.NumMessages -= k
			} else {
				c.mailbox.NumMessages = 0
			}
		}
		c.mutex.Unlock()
	}
	if handler := c.options.unilateralDataHandler().Vanished; handler != nil {
		handler(uids, earlier)
	}
	return nil
}

// Modified returns the messages a STORE with UNCHANGEDSINCE left alone
// because they had changed (the MODIFIED response code, RFC 7162 section
// 3.1.3), nil if none. It is valid once the command completed.
func (cmd *FetchCommand) Modified() imap.NumSet {
	return cmd.modified
}
