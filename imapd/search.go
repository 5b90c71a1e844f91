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
	all := s.resolve(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}})
	var msgs []loaded
	var err error
	if flagsOnly(criteria) {
		msgs, err = s.loadFlags(all)
	} else {
		msgs, err = s.load(all, needsEnvelope(criteria))
	}
	if err != nil {
		return nil, err
	}
	var index map[string][]byte // blob → header index, for HEADER/FROM/…
	if needsIndex(criteria) {
		if index, err = s.searchIndexes(msgs); err != nil {
			return nil, err
		}
	}
	maxSeq, maxUID := uint32(0), uint32(0)
	for _, m := range msgs {
		maxSeq, maxUID = max(maxSeq, m.seq), max(maxUID, m.msg.UID)
	}
	data := &imap.SearchData{}
	var minMod, maxMod, highest uint64 // MODSEQs for the answer (condstore.go)
	var seqs imap.SeqSet
	var uids imap.UIDSet
	for i := range msgs {
		m := &searchMsg{loaded: &msgs[i], s: s, index: index}
		if m.seq == 0 || !m.match(criteria, maxSeq, maxUID) {
			continue
		}
		num := m.seq
		uids.AddNum(imap.UID(m.msg.UID)) // also kept for SEARCHRES
		if kind == imapserver.NumKindUID {
			num = m.msg.UID
		} else {
			seqs.AddNum(num)
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
}

// flagsOnly reports whether the criteria look at nothing but flags and
// numbers (UNSEEN, FLAGGED, DELETED, UID ranges …): then only UIDs and
// flags are read.
func flagsOnly(c *imap.SearchCriteria) bool {
	if !c.Since.IsZero() || !c.Before.IsZero() || !c.SentSince.IsZero() || !c.SentBefore.IsZero() ||
		len(c.Header) > 0 || len(c.Body) > 0 || len(c.Text) > 0 || c.Larger > 0 || c.Smaller > 0 || c.ModSeq != nil {
		return false
	}
	for i := range c.Not {
		if !flagsOnly(&c.Not[i]) {
			return false
		}
	}
	for i := range c.Or {
		if !flagsOnly(&c.Or[i][0]) || !flagsOnly(&c.Or[i][1]) {
			return false
		}
	}
	return true
}

// loadFlags is load for flagsOnly criteria and FETCH (FLAGS): the
// messages carry UID, MODSEQ and flags only (the flag lists share one
// backing array).
func (s *session) loadFlags(items []item) ([]loaded, error) {
	uids := make([]uint32, len(items))
	for i, it := range items {
		uids[i] = it.uid
	}
	type row struct {
		it       int
		modseq   uint64
		from, to int
	}
	rows := make([]row, 0, len(items))
	arena := make([]string, 0, len(items))
	err := s.st().View(func(t *store.Tx) error {
		i := 0
		return t.FlagsModSeqOf(s.view.id, uids, func(uid uint32, modseq uint64, flags []string) {
			for items[i].uid != uid {
				i++
			}
			rows = append(rows, row{i, modseq, len(arena), len(arena) + len(flags)})
			arena = append(arena, flags...)
		})
	})
	out := make([]loaded, len(rows))
	for j, r := range rows {
		out[j].item = items[r.it]
		out[j].msg.UID = items[r.it].uid
		out[j].msg.ModSeq = r.modseq
		if r.to > r.from {
			out[j].msg.Flags = arena[r.from:r.to:r.to]
		}
	}
	return out, err
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
func (m *searchMsg) headerMatch(h imap.SearchCriteriaHeaderField) bool {
	if mailmsg.IndexedField(h.Key) {
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
	for _, h := range c.Header {
		if !m.headerMatch(h) {
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
	if sys, ok := systemFlags[strings.ToLower(string(f))]; ok {
		return string(sys), true
	}
	if strings.HasPrefix(string(f), `\`) {
		return "", false
	}
	return string(f), true
}
