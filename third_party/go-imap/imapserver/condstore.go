package imapserver

import (
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/internal/imapwire"
)

// CONDSTORE and QRESYNC (RFC 7162), server side.
//
// The session stores the mod-sequences and answers the commands; this file
// holds what the connection itself must do: parse the command modifiers,
// remember which of the two extensions the client enabled, and write
// HIGHESTMODSEQ, NOMODSEQ, MODIFIED and VANISHED.

// SessionCondStore is an IMAP session which supports CONDSTORE. Servers
// advertising CONDSTORE or QRESYNC in Options.Caps should implement it.
type SessionCondStore interface {
	Session

	// HighestModSeq returns the HIGHESTMODSEQ of the selected mailbox. It is
	// called when a command other than SELECT or EXAMINE enables CONDSTORE
	// while a mailbox is selected (RFC 7162 section 3.1): the server then
	// has to tell the client the mailbox's HIGHESTMODSEQ once.
	HighestModSeq() (uint64, error)
}

func (c *Conn) isEnabled(cap imap.Cap) bool {
	c.mutex.Lock()
	defer c.mutex.Unlock()
	return c.enabled.Has(cap)
}

func (c *Conn) enable(cap imap.Cap) {
	c.mutex.Lock()
	c.enabled[cap] = struct{}{}
	c.mutex.Unlock()
}

// enableCondStore is called by every CONDSTORE enabling command (RFC 7162
// section 3.1): STATUS HIGHESTMODSEQ, FETCH MODSEQ or CHANGEDSINCE, STORE
// UNCHANGEDSINCE and SEARCH MODSEQ. The first one sent while a mailbox is
// selected is answered with an untagged OK [HIGHESTMODSEQ].
func (c *Conn) enableCondStore() error {
	if c.isEnabled(imap.CapCondStore) || !c.server.options.caps().Has(imap.CapCondStore) {
		return nil
	}
	c.enable(imap.CapCondStore)
	sess, ok := c.session.(SessionCondStore)
	if c.state != imap.ConnStateSelected || !ok {
		return nil
	}
	modSeq, err := sess.HighestModSeq()
	if err != nil {
		return err
	}
	return c.writeHighestModSeq(modSeq)
}

// writeHighestModSeq writes the HIGHESTMODSEQ response code, or NOMODSEQ
// for a mailbox without persistent mod-sequences (modSeq 0).
func (c *Conn) writeHighestModSeq(modSeq uint64) error {
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("OK").SP()
	if modSeq == 0 {
		enc.Special('[').Atom("NOMODSEQ").Special(']').SP().Text("No permanent modsequences")
	} else {
		enc.Special('[').Atom("HIGHESTMODSEQ").SP().ModSeq(modSeq).Special(']').SP().Text("Highest")
	}
	return enc.CRLF()
}

// writeVanished writes "* VANISHED [(EARLIER)] uids" (RFC 7162 section
// 3.2.10). Nothing is written for an empty set.
func (c *Conn) writeVanished(uids imap.UIDSet, earlier bool) error {
	if len(uids) == 0 {
		return nil
	}
	enc := newResponseEncoder(c)
	defer enc.end()
	enc.Atom("*").SP().Atom("VANISHED").SP()
	if earlier {
		enc.Special('(').Atom("EARLIER").Special(')').SP()
	}
	return enc.NumSet(uids).CRLF()
}

// readSelectParams reads the optional select parameters of SELECT and
// EXAMINE (RFC 4466 section 2.1): CONDSTORE and QRESYNC.
func (c *Conn) readSelectParams(dec *imapwire.Decoder, options *imap.SelectOptions) error {
	if !dec.SP() {
		return nil
	}
	return dec.ExpectList(func() error {
		var name string
		if !dec.ExpectAtom(&name) {
			return dec.Err()
		}
		switch strings.ToUpper(name) {
		case "CONDSTORE":
			if !c.server.options.caps().Has(imap.CapCondStore) {
				return newClientBugError("CONDSTORE is not supported")
			}
			options.CondStore = true
		case "QRESYNC":
			// RFC 7162 section 3.2.5: BAD unless QRESYNC was enabled.
			if !c.isEnabled(imap.CapQResync) {
				return newClientBugError("QRESYNC must be enabled first")
			}
			q, err := readQResyncParam(dec)
			if err != nil {
				return err
			}
			options.QResync = q
		default:
			return newClientBugError("Unknown SELECT parameter")
		}
		return nil
	})
}

// readQResyncParam reads
// SP "(" uidvalidity SP mod-sequence-value [SP known-uids [SP seq-match-data]] ")".
func readQResyncParam(dec *imapwire.Decoder) (*imap.SelectQResync, error) {
	var q imap.SelectQResync
	if !dec.ExpectSP() || !dec.ExpectSpecial('(') || !dec.ExpectNumber(&q.UIDValidity) ||
		!dec.ExpectSP() || !dec.ExpectModSeq(&q.ModSeq) {
		return nil, dec.Err()
	}
	if q.UIDValidity == 0 || q.ModSeq == 0 {
		return nil, newClientBugError("QRESYNC needs a non-zero UIDVALIDITY and mod-sequence")
	}
	if dec.SP() {
		if !dec.Special('(') {
			var known imap.UIDSet
			if !dec.ExpectUIDSet(&known) {
				return nil, dec.Err()
			}
			q.KnownUIDs = known
			if !dec.SP() {
				return &q, expectClose(dec)
			}
			if !dec.ExpectSpecial('(') {
				return nil, dec.Err()
			}
		}
		var match imap.SelectQResyncSeqMatch
		var seqs imap.NumSet
		if !dec.ExpectNumSet(imapwire.NumKindSeq, &seqs) || !dec.ExpectSP() || !dec.ExpectUIDSet(&match.UIDs) || !dec.ExpectSpecial(')') {
			return nil, dec.Err()
		}
		match.SeqNums = seqs.(imap.SeqSet)
		q.SeqMatch = &match
	}
	return &q, expectClose(dec)
}

func expectClose(dec *imapwire.Decoder) error {
	if !dec.ExpectSpecial(')') {
		return dec.Err()
	}
	return nil
}

// qresyncSelect sends what changed since the client's last visit after a
// SELECT or EXAMINE with QRESYNC (RFC 7162 section 3.2.5.1): it is the
// answer to UID FETCH known-uids (FLAGS) (CHANGEDSINCE modseq VANISHED),
// nothing when the UIDVALIDITY changed.
func (c *Conn) qresyncSelect(q *imap.SelectQResync, data *imap.SelectData) error {
	if q.UIDValidity != data.UIDValidity {
		return nil
	}
	var uids imap.UIDSet = q.KnownUIDs
	if uids == nil {
		uids = imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	}
	options := imap.FetchOptions{
		UID:          true,
		Flags:        true,
		ModSeq:       true,
		ChangedSince: q.ModSeq,
		Vanished:     true,
	}
	w := &FetchWriter{conn: c}
	return c.session.Fetch(w, uids, &options)
}

// readFetchModifiers reads FETCH's optional modifiers (RFC 4466 section
// 2.4): CHANGEDSINCE and VANISHED.
func (c *Conn) readFetchModifiers(dec *imapwire.Decoder, numKind NumKind, options *imap.FetchOptions) error {
	if !dec.SP() {
		return nil
	}
	err := dec.ExpectList(func() error {
		var name string
		if !dec.ExpectAtom(&name) {
			return dec.Err()
		}
		switch strings.ToUpper(name) {
		case "CHANGEDSINCE":
			if !c.server.options.caps().Has(imap.CapCondStore) {
				return newClientBugError("CONDSTORE is not supported")
			}
			if !dec.ExpectSP() || !dec.ExpectModSeq(&options.ChangedSince) {
				return dec.Err()
			}
		case "VANISHED":
			options.Vanished = true
		default:
			return newClientBugError("Unknown FETCH modifier")
		}
		return nil
	})
	if err != nil {
		return err
	}
	// RFC 7162 section 3.2.6: VANISHED only in UID FETCH with CHANGEDSINCE,
	// once QRESYNC is enabled.
	if options.Vanished && (numKind != NumKindUID || options.ChangedSince == 0 || !c.isEnabled(imap.CapQResync)) {
		return newClientBugError("VANISHED needs UID FETCH, CHANGEDSINCE and QRESYNC enabled")
	}
	return nil
}

// readStoreModifiers reads STORE's optional modifier UNCHANGEDSINCE (RFC
// 7162 section 3.1.3), after the sequence set. zero reports UNCHANGEDSINCE
// 0, which StoreOptions cannot hold (0 means none there).
func (c *Conn) readStoreModifiers(dec *imapwire.Decoder, options *imap.StoreOptions) (zero bool, err error) {
	if !dec.Special('(') {
		return false, nil
	}
	for {
		var name string
		if !dec.ExpectAtom(&name) {
			return false, dec.Err()
		}
		switch strings.ToUpper(name) {
		case "UNCHANGEDSINCE":
			if !c.server.options.caps().Has(imap.CapCondStore) {
				return false, newClientBugError("CONDSTORE is not supported")
			}
			if !dec.ExpectSP() || !dec.ExpectModSeq(&options.UnchangedSince) {
				return false, dec.Err()
			}
			zero = options.UnchangedSince == 0
		default:
			return false, newClientBugError("Unknown STORE modifier")
		}
		if !dec.SP() {
			break
		}
	}
	if !dec.ExpectSpecial(')') || !dec.ExpectSP() {
		return false, dec.Err()
	}
	return zero, nil
}

// readSearchKeyModSeq reads the rest of the MODSEQ search key (RFC 7162
// section 3.1.5): [SP entry-name SP entry-type-req] SP mod-sequence-valzer.
func readSearchKeyModSeq(criteria *imap.SearchCriteria, dec *imapwire.Decoder) error {
	var modSeq imap.SearchCriteriaModSeq
	if !dec.ExpectSP() {
		return dec.Err()
	}
	var name string
	if dec.Quoted(&name) {
		var typ string
		if !dec.ExpectSP() || !dec.ExpectAtom(&typ) || !dec.ExpectSP() {
			return dec.Err()
		}
		switch t := imap.SearchCriteriaMetadataType(strings.ToLower(typ)); t {
		case imap.SearchCriteriaMetadataAll, imap.SearchCriteriaMetadataPrivate, imap.SearchCriteriaMetadataShared:
			modSeq.MetadataName, modSeq.MetadataType = name, t
		default:
			return newClientBugError("Unknown MODSEQ entry type")
		}
	}
	if !dec.ExpectModSeq(&modSeq.ModSeq) {
		return dec.Err()
	}
	if criteria.ModSeq == nil || modSeq.ModSeq > criteria.ModSeq.ModSeq {
		criteria.ModSeq = &modSeq
	}
	return nil
}

func searchUsesModSeq(criteria *imap.SearchCriteria) bool {
	if criteria.ModSeq != nil {
		return true
	}
	for i := range criteria.Not {
		if searchUsesModSeq(&criteria.Not[i]) {
			return true
		}
	}
	for i := range criteria.Or {
		if searchUsesModSeq(&criteria.Or[i][0]) || searchUsesModSeq(&criteria.Or[i][1]) {
			return true
		}
	}
	return false
}

// WriteModSeq writes the message's mod-sequence (FETCH MODSEQ, RFC 7162
// section 3.1.4.1).
func (w *FetchResponseWriter) WriteModSeq(modSeq uint64) {
	w.writeItemSep()
	w.enc.Atom("MODSEQ").SP().Special('(').ModSeq(modSeq).Special(')')
}

// WriteVanished writes "* VANISHED (EARLIER) uids", the answer to UID FETCH
// with the VANISHED modifier and to SELECT with QRESYNC (RFC 7162 section
// 3.2.6): it must come before the FETCH responses. Nothing is written for
// an empty set.
func (w *FetchWriter) WriteVanished(uids imap.UIDSet) error {
	return w.conn.writeVanished(uids, true)
}

// WriteModified reports the messages a STORE with UNCHANGEDSINCE did not
// change because their mod-sequence was higher (RFC 7162 section 3.1.3):
// the command completes with OK [MODIFIED set]. Sequence numbers for
// STORE, UIDs for UID STORE.
func (w *FetchWriter) WriteModified(set imap.NumSet) {
	if isNumSetEmpty(set) {
		return
	}
	w.conn.okCode = imap.ResponseCode(fmt.Sprintf("MODIFIED %v", set))
}

func (c *Conn) noteMailboxFlags(flags []imap.Flag) {
	set := make(map[imap.Flag]struct{}, len(flags))
	for _, f := range flags {
		set[imap.Flag(strings.ToLower(string(f)))] = struct{}{}
	}
	c.mutex.Lock()
	c.mailboxFlags = set
	c.mutex.Unlock()
}

// knowsFlags reports whether every flag was in the last FLAGS response.
func (c *Conn) knowsFlags(flags []imap.Flag) bool {
	if c == nil {
		return false
	}
	c.mutex.Lock()
	defer c.mutex.Unlock()
	for _, f := range flags {
		if _, ok := c.mailboxFlags[imap.Flag(strings.ToLower(string(f)))]; !ok {
			return false
		}
	}
	return true
}
