package imapd

import (
	"io"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/internal/mailmsg"
)

// SEARCH and UID SEARCH, including HEADER, BODY and TEXT (decoded text of
// the message, case-insensitive substring as RFC 3501 asks).
func (s *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, opts *imap.SearchOptions) (*imap.SearchData, error) {
	all := s.resolve(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}})
	msgs, err := s.load(all, needsEnvelope(criteria))
	if err != nil {
		return nil, err
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
		m := &searchMsg{loaded: &msgs[i], s: s}
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
	internal := day(m.msg.Internal)
	if !c.Since.IsZero() && internal.Before(day(c.Since)) {
		return false
	}
	if !c.Before.IsZero() && !internal.Before(day(c.Before)) {
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
		if fl := storeFlags([]imap.Flag{f}); len(fl) == 0 || !hasFlagFold(&m.msg, fl[0]) {
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
		if fl := storeFlags([]imap.Flag{f}); len(fl) == 1 && hasFlagFold(&m.msg, fl[0]) {
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
		found := false
		for _, line := range m.headers() {
			k, v, _ := strings.Cut(line, ": ")
			if strings.EqualFold(k, h.Key) && (contains(v, h.Value) || addressContains(k, v, h.Value)) {
				found = true
				break
			}
		}
		if !found {
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
