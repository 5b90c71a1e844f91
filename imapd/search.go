package imapd

import (
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/internal/mailmsg"
	"schulhof/store"
)

// SEARCH and UID SEARCH, including HEADER, BODY and TEXT (decoded text of
// the message, case-insensitive substring as RFC 3501 asks).
func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error) {
	var c *candidates
	if seen, ok := seenQuery(criteria); ok {
		// UNSEEN or SEEN: the candidates come from the unseen index, and
		// are the answer unless sets narrow it.
		if sr, ok := s.seenRows(seen); ok {
			c = &candidates{n: len(sr.items), get: sr.at, maxSeq: sr.maxSeq, maxUID: sr.maxUID,
				exact: len(criteria.SeqNum)+len(criteria.UID) == 0}
		}
	}
	if c == nil {
		var err error
		if c, err = s.searchScan(criteria); err != nil {
			return nil, err
		}
	}
	maxSeq, maxUID := c.maxSeq, c.maxUID
	data := &imap.SearchData{}
	var minMod, maxMod, highest uint64 // MODSEQs for the answer (condstore.go)
	var seqs imap.SeqSet
	var uids imap.UIDSet
	for i := range c.n {
		m := searchMsg{loaded: c.get(i), s: s, index: c.index, hq: c.hq}
		if m.seq == 0 || !c.exact && !m.match(criteria, maxSeq, maxUID) {
			continue
		}
		num := m.seq
		uids = addUID(uids, m.msg.UID) // also kept for SEARCHRES
		if kind == imapserver.NumKindUID {
			num = m.msg.UID
		} else {
			seqs = addSeq(seqs, num)
		}
		if data.Min == 0 || num < data.Min {
			data.Min, minMod = num, m.msg.ModSeq
		}
		if num > data.Max {
			data.Max, maxMod = num, m.msg.ModSeq
		}
		highest = max(highest, m.msg.ModSeq)
		data.Count++
	}
	if kind == imapserver.NumKindUID {
		data.All = uids
	} else {
		data.All = seqs
	}
	if opts != nil && opts.ReturnSave {
		s.searchRes = uids
	}
	if usesModSeq(criteria) {
		data.ModSeq = searchModSeq(opts, minMod, maxMod, highest)
	}
	return data, nil
}

// candidates are the messages a search matches its criteria against.
type candidates struct {
	n              int
	get            func(i int) *loaded // may reuse one loaded
	maxSeq, maxUID uint32              // "*" in the criteria
	index          map[string][]byte   // blob → header index, for HEADER/FROM/…
	hq             *headerQuery
	exact          bool // every candidate matches
}

// searchScan reads the view's messages for a search: flag and
// indexed-header searches go through the compact rows, one reused message
// at a time; the others load the records.
func (s *session) searchScan(criteria *imap.SearchCriteria) (*candidates, error) {
	all := s.resolve(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}})
	var msgs []loaded
	var fr *flagRows
	var err error
	c := &candidates{hq: newHeaderQuery(criteria)}
	if flagsOnly(criteria) || c.hq != nil {
		fr, err = s.scanFlags(all, c.hq)
	} else {
		msgs, err = s.load(all, needsEnvelope(criteria))
	}
	if err != nil {
		return nil, err
	}
	if fr == nil && needsIndex(criteria) {
		if c.index, err = s.searchIndexes(msgs); err != nil {
			return nil, err
		}
	}
	if fr != nil {
		var scratch loaded
		c.n = len(fr.rows)
		c.get = func(i int) *loaded { fr.at(i, &scratch); return &scratch }
		for _, r := range fr.rows {
			c.maxSeq, c.maxUID = max(c.maxSeq, all[r.it].seq), max(c.maxUID, all[r.it].uid)
		}
		return c, nil
	}
	c.n = len(msgs)
	c.get = func(i int) *loaded { return &msgs[i] }
	for _, m := range msgs {
		c.maxSeq, c.maxUID = max(c.maxSeq, m.seq), max(c.maxUID, m.msg.UID)
	}
	return c, nil
}

// addUID adds uid to set, cheaply when it follows the set's last UID
// (messages are matched in UID order).
func addUID(set imap.UIDSet, uid uint32) imap.UIDSet {
	if n := len(set); n > 0 && set[n-1].Stop != 0 && uint32(set[n-1].Stop) < uid {
		if uint32(set[n-1].Stop)+1 == uid {
			set[n-1].Stop = imap.UID(uid)
			return set
		}
		return append(set, imap.UIDRange{Start: imap.UID(uid), Stop: imap.UID(uid)})
	}
	if len(set) == 0 {
		return imap.UIDSet{imap.UIDRange{Start: imap.UID(uid), Stop: imap.UID(uid)}}
	}
	set.AddNum(imap.UID(uid))
	return set
}

// addSeq is addUID for sequence numbers.
func addSeq(set imap.SeqSet, seq uint32) imap.SeqSet {
	if n := len(set); n > 0 && set[n-1].Stop != 0 && set[n-1].Stop < seq {
		if set[n-1].Stop+1 == seq {
			set[n-1].Stop = seq
			return set
		}
		return append(set, imap.SeqRange{Start: seq, Stop: seq})
	}
	if len(set) == 0 {
		return imap.SeqSet{imap.SeqRange{Start: seq, Stop: seq}}
	}
	set.AddNum(seq)
	return set
}

// needsEnvelope reports whether the criteria look at the sent date, the
// only thing SEARCH takes from the stored summary.
func needsEnvelope(c *imap.SearchCriteria) bool {
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		return true
	}
	for i := range c.Not {
		if needsEnvelope(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if needsEnvelope(&c.Or[i][0]) || needsEnvelope(&c.Or[i][1]) {
			return true
		}
	}
	return false
}

// searchMsg reads header and text lazily, once.
type searchMsg struct {
	*loaded
	s      *session
	header []string
	text   *string
	index  map[string][]byte
	hq     *headerQuery // set when scanFlags matched the header fields
}

// flagsOnly reports whether the criteria look at nothing but flags and
// numbers (UNSEEN, FLAGGED, DELETED, UID ranges …): then only UIDs and
// flags are read.
func flagsOnly(c *imap.SearchCriteria) bool { return onlyFlags(c, false) }

// onlyFlags is flagsOnly, with HEADER criteria allowed when headers is set.
func onlyFlags(c *imap.SearchCriteria, headers bool) bool {
	if !c.Since.IsZero() || !c.Before.IsZero() || !c.SentSince.IsZero() || !c.SentBefore.IsZero() ||
		len(c.Header) > 0 && !headers || len(c.Body) > 0 || len(c.Text) > 0 || c.Larger > 0 || c.Smaller > 0 || c.ModSeq != nil {
		return false
	}
	for i := range c.Not {
		if !onlyFlags(&c.Not[i], headers) {
			return false
		}
	}
	for i := range c.Or {
		if !onlyFlags(&c.Or[i][0], headers) || !onlyFlags(&c.Or[i][1], headers) {
			return false
		}
	}
	return true
}

// loadFlags is load for FETCH (FLAGS): the messages carry UID, MODSEQ
// and flags only (the flag lists share one backing array).
func (s *session) loadFlags(items []item) ([]loaded, error) {
	fr, err := s.scanFlags(items, nil)
	out := make([]loaded, len(fr.rows))
	for j := range fr.rows {
		fr.at(j, &out[j])
	}
	return out, err
}

// flagRows is what scanFlags read: per message found, its position in
// items, MODSEQ, flags (a range of arena) and header hits.
type flagRows struct {
	items []item
	rows  []flagRow
	arena []string
	hits  []hdrHits // by position in items; nil without a headerQuery
}

type flagRow struct {
	it       int
	modseq   uint64
	from, to int
}

// at fills l with row j (a SEARCH reuses one l for all rows).
func (fr *flagRows) at(j int, l *loaded) {
	r := fr.rows[j]
	*l = loaded{item: fr.items[r.it]}
	l.msg.UID = fr.items[r.it].uid
	l.msg.ModSeq = r.modseq
	if fr.hits != nil {
		l.hdr = fr.hits[r.it]
	}
	if r.to > r.from {
		l.msg.Flags = fr.arena[r.from:r.to:r.to]
	}
}

// scanFlags reads the UIDs, MODSEQs and flags of items in one snapshot;
// with hq, the same snapshot's header indexes are matched against hq's
// fields in place (store.Tx.HeaderIndexesOf), without a copy per message.
func (s *session) scanFlags(items []item, hq *headerQuery) (*flagRows, error) {
	uids := make([]uint32, len(items))
	for i, it := range items {
		uids[i] = it.uid
	}
	fr := &flagRows{items: items, rows: make([]flagRow, 0, len(items)), arena: make([]string, 0, len(items))}
	err := s.st().View(func(t *store.Tx) error {
		i := 0
		err := t.FlagsModSeqOf(s.view.id, uids, func(uid uint32, modseq uint64, flags []string) {
			for items[i].uid != uid {
				i++
			}
			fr.rows = append(fr.rows, flagRow{i, modseq, len(fr.arena), len(fr.arena) + len(flags)})
			fr.arena = append(fr.arena, flags...)
		})
		if err != nil || hq == nil {
			return err
		}
		fr.hits = make([]hdrHits, len(items))
		return t.HeaderIndexesOf(s.view.id, uids, func(i int, idx []byte, ok bool) {
			if ok {
				fr.hits[i] = hdrHits{known: true, bits: hq.match(idx)}
			}
		})
	})
	if hook := afterLoad.Load(); hook != nil {
		(*hook)()
	}
	return fr, err
}

// headerQuery is the HEADER criteria (FROM, SUBJECT, …) of a search that
// otherwise looks at flags and numbers only, all on indexed fields: they
// are matched against each message's header index while it is read.
type headerQuery struct {
	bit          map[*imap.SearchCriteriaHeaderField]uint
	keys, values [][]byte // lower-cased, by bit
}

// hdrHits is one message's answers to a headerQuery: bit n for field n;
// known is false for a blob without an index.
type hdrHits struct {
	known bool
	bits  uint64
}

// newHeaderQuery returns the query for criteria it can answer, else nil.
func newHeaderQuery(c *imap.SearchCriteria) *headerQuery {
	q := &headerQuery{bit: map[*imap.SearchCriteriaHeaderField]uint{}}
	if !onlyFlags(c, true) || !q.collect(c) || len(q.keys) == 0 || len(q.keys) > 64 {
		return nil
	}
	return q
}

func (q *headerQuery) collect(c *imap.SearchCriteria) bool {
	for i := range c.Header {
		f := &c.Header[i]
		if !mailmsg.IndexedField(f.Key) {
			return false
		}
		q.bit[f] = uint(len(q.keys))
		q.keys = append(q.keys, []byte(strings.ToLower(f.Key)))
		q.values = append(q.values, []byte(strings.ToLower(f.Value)))
	}
	for i := range c.Not {
		if !q.collect(&c.Not[i]) {
			return false
		}
	}
	for i := range c.Or {
		if !q.collect(&c.Or[i][0]) || !q.collect(&c.Or[i][1]) {
			return false
		}
	}
	return true
}

func (q *headerQuery) match(idx []byte) uint64 {
	var bits uint64
	for n := range q.keys {
		if mailmsg.MatchIndex(idx, q.keys[n], q.values[n]) {
			bits |= 1 << n
		}
	}
	return bits
}

// needsIndex reports whether the criteria match indexed header fields.
func needsIndex(c *imap.SearchCriteria) bool {
	for _, h := range c.Header {
		if mailmsg.IndexedField(h.Key) {
			return true
		}
	}
	for i := range c.Not {
		if needsIndex(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if needsIndex(&c.Or[i][0]) || needsIndex(&c.Or[i][1]) {
			return true
		}
	}
	return false
}

// searchIndexes reads the header indexes of the messages' blobs in one
// snapshot; blobs without one are left out (matched from the blob).
func (s *session) searchIndexes(msgs []loaded) (map[string][]byte, error) {
	hashes := make([]string, len(msgs))
	for i := range msgs {
		hashes[i] = msgs[i].msg.Blob
	}
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	out := make(map[string][]byte, len(hashes))
	err := s.st().View(func(t *store.Tx) error {
		t.SearchIndexes(hashes, func(h string, idx []byte) { out[h] = slices.Clone(idx) })
		return nil
	})
	return out, err
}

// headerMatch is HEADER key value: from the index when the field is
// indexed, else from the message's header.
func (m *searchMsg) headerMatch(h *imap.SearchCriteriaHeaderField) bool {
	if m.hq != nil {
		if m.hdr.known {
			return m.hdr.bits&(1<<m.hq.bit[h]) != 0
		}
		m.loadBlob() // a blob without index: matched from its header below
	} else if mailmsg.IndexedField(h.Key) {
		if idx, ok := m.index[m.msg.Blob]; ok {
			return mailmsg.MatchIndex(idx, []byte(strings.ToLower(h.Key)), []byte(strings.ToLower(h.Value)))
		}
	}
	for _, line := range m.headers() {
		k, v, _ := strings.Cut(line, ": ")
		if strings.EqualFold(k, h.Key) && (contains(v, h.Value) || addressContains(k, v, h.Value)) {
			return true
		}
	}
	return false
}

// loadBlob reads the blob hash loadFlags left out, for the rare message
// whose blob has no header index.
func (m *searchMsg) loadBlob() {
	if m.msg.Blob != "" {
		return
	}
	m.s.st().View(func(t *store.Tx) error {
		if msg, err := t.Message(m.s.view.id, m.msg.UID); err == nil {
			m.msg.Blob = msg.Blob
		}
		return nil
	})
}

func (m *searchMsg) headers() []string {
	if m.header == nil {
		m.header = []string{}
		if f, err := m.s.st().OpenContent(m.msg.Blob); err == nil {
			if h, err := mailmsg.Header(io.LimitReader(f, 1<<20)); err == nil {
				m.header = h
			}
			f.Close()
		}
	}
	return m.header
}

func (m *searchMsg) body() string {
	if m.text == nil {
		cache := m.s.srv.texts
		t, ok := cache.get(m.msg.Blob)
		if !ok {
			if f, err := m.s.st().OpenContent(m.msg.Blob); err == nil {
				t = strings.ToLower(mailmsg.BodyText(f))
				f.Close()
				cache.put(m.msg.Blob, t)
			}
		}
		m.text = &t
	}
	return *m.text
}

func contains(hay, needle string) bool {
	return strings.Contains(strings.ToLower(hay), strings.ToLower(needle))
}

func day(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

func (m *searchMsg) match(c *imap.SearchCriteria, maxSeq, maxUID uint32) bool {
	for _, set := range c.SeqNum {
		if !seqContains(staticSeqSet(set, maxSeq), m.seq) {
			return false
		}
	}
	for _, set := range c.UID {
		if imap.IsSearchRes(set) {
			set = m.s.savedSearch()
		}
		if !staticUIDSet(set, maxUID).Contains(imap.UID(m.msg.UID)) {
			return false
		}
	}
	if !c.Since.IsZero() && day(m.msg.Internal).Before(day(c.Since)) {
		return false
	}
	if !c.Before.IsZero() && !day(m.msg.Internal).Before(day(c.Before)) {
		return false
	}
	if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		sent := m.meta.Envelope.Date
		if sent.IsZero() {
			return false
		}
		if !c.SentSince.IsZero() && day(sent).Before(day(c.SentSince)) {
			return false
		}
		if !c.SentBefore.IsZero() && !day(sent).Before(day(c.SentBefore)) {
			return false
		}
	}
	for _, f := range c.Flag {
		if isRecentFlag(f) {
			if !m.s.isRecent(m.msg.UID) {
				return false
			}
			continue
		}
		if fl, ok := storedFlag(f); !ok || !hasFlagFold(&m.msg, fl) {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if isRecentFlag(f) {
			if m.s.isRecent(m.msg.UID) {
				return false
			}
			continue
		}
		if fl, ok := storedFlag(f); ok && hasFlagFold(&m.msg, fl) {
			return false
		}
	}
	if c.Larger > 0 && m.msg.Size <= c.Larger {
		return false
	}
	if c.Smaller > 0 && m.msg.Size >= c.Smaller {
		return false
	}
	if c.ModSeq != nil && m.msg.ModSeq < c.ModSeq.ModSeq {
		return false
	}
	for i := range c.Header {
		if !m.headerMatch(&c.Header[i]) {
			return false
		}
	}
	for _, b := range c.Body {
		if !strings.Contains(m.body(), strings.ToLower(b)) {
			return false
		}
	}
	for _, t := range c.Text {
		if !strings.Contains(m.body(), strings.ToLower(t)) && !contains(strings.Join(m.headers(), "\n"), t) {
			return false
		}
	}
	for i := range c.Not {
		if m.match(&c.Not[i], maxSeq, maxUID) {
			return false
		}
	}
	for i := range c.Or {
		if !m.match(&c.Or[i][0], maxSeq, maxUID) && !m.match(&c.Or[i][1], maxSeq, maxUID) {
			return false
		}
	}
	return true
}

// addressContains matches FROM, TO, CC, BCC (and the other address
// headers) against the parsed addresses too, as Dovecot does: a comment
// inside an addr-spec, "<user (c)@ (c) host>", still is user@host.
func addressContains(key, value, needle string) bool {
	switch strings.ToLower(key) {
	case "from", "to", "cc", "bcc", "sender", "reply-to":
	default:
		return false
	}
	for _, a := range mailmsg.ParseAddressList(value) {
		if contains(a.AddressText(), needle) {
			return true
		}
	}
	return false
}

// storedFlag is storeFlags for one flag, without allocating for the
// system flags every SEARCH UNSEEN/FLAGGED asks about per message.
func storedFlag(f imap.Flag) (string, bool) {
	switch f { // as the client's parser spells them (no lower-casing)
	case imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft:
		return string(f), true
	}
	if sys, ok := systemFlags[strings.ToLower(string(f))]; ok {
		return string(sys), true
	}
	if strings.HasPrefix(string(f), `\`) {
		return "", false
	}
	return string(f), true
}
