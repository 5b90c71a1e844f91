package imapd

import (
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/store"
)

// Keywords of one mailbox, as the view knows them: compared without
// regard to case (RFC 3501 §2.3.2 flags are case-insensitive), shown in
// the spelling first used. A keyword used for the first time is announced
// to every session in an untagged FLAGS before any FETCH shows it.

// loadKeywords reads the mailbox's keyword list from the store: every
// keyword ever set there, also those no message carries now, so FLAGS
// is the same after a restart (clients that saw a keyword keep using it;
// the list is bounded where keywords are added, store/maillimits.go).
func loadKeywords(t *store.Tx, id uint64) (map[string]string, error) {
	list, err := t.Keywords(id)
	if err != nil {
		return nil, err
	}
	kw := map[string]string{}
	addKeywords(kw, list)
	return kw, nil
}

// addKeywords records the keywords among flags; it reports whether any
// was new.
func addKeywords(kw map[string]string, flags []string) bool {
	added := false
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) {
			continue
		}
		k := strings.ToLower(f)
		if _, ok := kw[k]; !ok {
			kw[k] = f
			added = true
		}
	}
	return added
}

// flagsLocked is the view's FLAGS (under b.mu).
func (b *mailboxView) flagsLocked() []imap.Flag {
	set := make(map[string]struct{}, len(b.keywords))
	for _, f := range b.keywords {
		set[f] = struct{}{}
	}
	return mailboxFlags(set)
}

// canonical spells the keywords among flags as the mailbox already does
// and reports whether one of them is new to the mailbox.
func (b *mailboxView) canonical(flags []string) (out []string, fresh bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out = make([]string, len(flags))
	for i, f := range flags {
		out[i] = f
		if strings.HasPrefix(f, `\`) {
			continue
		}
		if known, ok := b.keywords[strings.ToLower(f)]; ok {
			out[i] = known
		} else {
			fresh = true
		}
	}
	return out, fresh
}

// hasFlagFold is Message.HasFlag for a flag in any spelling.
func hasFlagFold(m *store.Message, flag string) bool {
	if m.HasFlag(flag) {
		return true
	}
	for _, f := range m.Flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// announceKeywords writes FLAGS before a command's FETCH responses when
// the view knows keywords this client has not been told of yet (another
// session's STORE queued them for the next poll, which comes after).
func (s *session) announceKeywords(w *imapserver.FetchWriter) error {
	s.view.mu.Lock()
	gen := s.view.kwGen
	var f []imap.Flag
	if gen > s.kwSeen {
		f = s.view.flagsLocked()
	}
	s.view.mu.Unlock()
	if f == nil {
		return nil
	}
	s.kwSeen = gen
	return w.WriteMailboxFlags(f)
}

// announceLoaded is announceKeywords for messages just read from the
// store: one may carry a keyword another session committed that the view
// has not applied yet, so the view catches up first.
func (s *session) announceLoaded(w *imapserver.FetchWriter, msgs []loaded) error {
	lists := make([][]string, len(msgs))
	for i := range msgs {
		lists[i] = msgs[i].msg.Flags
	}
	return s.announceFlagLists(w, lists)
}

// announceFlagLists is announceLoaded for bare flag lists.
func (s *session) announceFlagLists(w *imapserver.FetchWriter, lists [][]string) error {
	s.view.mu.Lock()
	unknown := false
	for _, flags := range lists {
		for _, f := range flags {
			if strings.HasPrefix(f, `\`) {
				continue
			}
			if _, ok := s.view.keywords[strings.ToLower(f)]; !ok {
				unknown = true
			}
		}
	}
	s.view.mu.Unlock()
	if unknown {
		s.syncView()
	}
	return s.announceKeywords(w)
}
