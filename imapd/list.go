package imapd

import (
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"schulhof/store"
)

// LIST (with SPECIAL-USE, CHILDREN, LIST-EXTENDED and LIST-STATUS) and
// LSUB. Subscriptions are names of their own (store.Subscriptions): a
// subscribed name whose mailbox is gone is listed as \NonExistent.
func (s *session) List(w *imapserver.ListWriter, ref string, patterns []string, opts *imap.ListOptions) error {
	if len(patterns) == 1 && patterns[0] == "" {
		// LIST "" "": the hierarchy delimiter and the root of ref.
		root := ""
		if i := strings.IndexRune(ref, store.MailboxDelim); i >= 0 {
			root = ref[:i+1]
		}
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect},
			Delim: store.MailboxDelim, Mailbox: root})
	}
	boxes, err := s.st().Mailboxes(s.account)
	if err != nil {
		return err
	}
	subs, err := s.st().Subscriptions(s.account)
	if err != nil {
		return err
	}
	exists := make(map[string]*store.Mailbox, len(boxes))
	for i := range boxes {
		exists[boxes[i].Name] = &boxes[i]
	}
	matches := func(name string) bool {
		for _, p := range patterns {
			if imapserver.MatchList(name, store.MailboxDelim, ref, p) {
				return true
			}
		}
		return false
	}
	// A "%" stops at the delimiter; with it read as "*" a pattern reaches
	// the descendants LSUB must stand in for (RFC 3501 §6.3.9).
	matchesDeep := func(name string) bool {
		for _, p := range patterns {
			if imapserver.MatchList(name, store.MailboxDelim, ref, strings.ReplaceAll(p, "%", "*")) {
				return true
			}
		}
		return false
	}

	var names []string
	if opts.SelectSubscribed {
		for n := range subs {
			names = append(names, n)
		}
		// Parents of subscribed names: LSUB's \Noselect stand-ins and
		// RECURSIVEMATCH's CHILDINFO (RFC 5258 §3.5).
		for n := range subs {
			for p := parentName(n); p != ""; p = parentName(p) {
				if !subs[p] {
					names = append(names, p)
				}
			}
		}
	} else {
		for n := range exists {
			names = append(names, n)
			// A parent deleted under its children stays a \Noselect
			// name (RFC 3501 §6.3.4).
			for p := parentName(n); p != "" && exists[p] == nil; p = parentName(p) {
				names = append(names, p)
			}
		}
	}
	sort.Strings(names)
	names = compactSorted(names)

	lsub := w.IsLSub()
	for _, name := range names {
		if !matches(name) {
			continue
		}
		m := exists[name]
		data := &imap.ListData{Mailbox: name, Delim: store.MailboxDelim}
		if opts.SelectSubscribed && !subs[name] {
			// A parent listed only for a subscribed descendant the
			// pattern does not reach.
			switch {
			case lsub:
				if !anyDescendant(subs, name, func(d string) bool { return !matches(d) && matchesDeep(d) }) {
					continue
				}
				data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect)
			case opts.SelectRecursiveMatch:
				if m != nil {
					data.Attrs = append(data.Attrs, childrenAttr(boxes, name))
				}
				if !anyDescendant(subs, name, func(d string) bool { return !matches(d) }) {
					continue
				}
				data.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
				if m == nil {
					data.Attrs = append(data.Attrs, imap.MailboxAttrNonExistent)
				}
			default:
				continue
			}
			if err := w.WriteList(data); err != nil {
				return err
			}
			continue
		}
		switch {
		case m == nil && !opts.SelectSubscribed:
			if opts.SelectSpecialUse {
				continue
			}
			data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect, imap.MailboxAttrHasChildren)
		case m == nil && lsub:
			data.Attrs = append(data.Attrs, imap.MailboxAttrNoSelect)
		case m == nil:
			data.Attrs = append(data.Attrs, imap.MailboxAttrNonExistent)
		default:
			if opts.SelectSpecialUse && m.SpecialUse == "" {
				continue
			}
			data.Attrs = append(data.Attrs, childrenAttr(boxes, name))
			// Special-use attributes always: several clients look for
			// them in a plain LIST (RFC 6154 allows it).
			if m.SpecialUse != "" {
				data.Attrs = append(data.Attrs, imap.MailboxAttr(m.SpecialUse))
			}
		}
		if subs[name] && !lsub && (opts.ReturnSubscribed || opts.SelectSubscribed) {
			data.Attrs = append(data.Attrs, imap.MailboxAttrSubscribed)
		}
		if opts.SelectRecursiveMatch && anyDescendant(subs, name, func(d string) bool { return !matches(d) }) {
			data.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
		}
		if opts.ReturnStatus != nil && m != nil {
			data.Status, err = s.statusOf(m, opts.ReturnStatus)
			if err != nil {
				return err
			}
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

func parentName(name string) string {
	if i := strings.LastIndexByte(name, byte(store.MailboxDelim)); i > 0 {
		return name[:i]
	}
	return ""
}

func compactSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// anyDescendant reports whether a subscribed name below parent satisfies f.
func anyDescendant(subs map[string]bool, parent string, f func(string) bool) bool {
	prefix := parent + string(store.MailboxDelim)
	for n := range subs {
		if strings.HasPrefix(n, prefix) && f(n) {
			return true
		}
	}
	return false
}

func childrenAttr(boxes []store.Mailbox, name string) imap.MailboxAttr {
	for _, b := range boxes {
		if strings.HasPrefix(b.Name, name+string(store.MailboxDelim)) {
			return imap.MailboxAttrHasChildren
		}
	}
	return imap.MailboxAttrHasNoChildren
}
