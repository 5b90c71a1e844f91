package policy

import "strings"

// HeaderSender is one address of a submitted message's From or Sender
// header, with the facts the rule needs about it.
type HeaderSender struct {
	Field   string // "From" or "Sender"
	Address string // the address as parsed (display name and comments dropped)
	// Group is set when the local part names a group of the school.
	Group *SenderGroup
}

// SenderGroup says how the sending account relates to a group whose
// address appears as a sender.
type SenderGroup struct {
	Name      string
	IsTeacher bool // the account teaches the group
	IsMember  bool
}

// CheckHeaderSenders applies MAIL-SENDER to the header of a submitted
// message: every From and Sender address must be one the account may use,
// and there must be a From. An account may use its own address; a group's
// address only if it teaches the group or its role may write to every group
// (GroupsAll, the administrators). Being a member is not enough: a class
// address speaks for the whole class, and one pupil must not speak for it
// (nor have its replies go to everyone). Addresses compare
// case-insensitively.
func (l MailLimits) CheckHeaderSenders(account, domain string, senders []HeaderSender) Decision {
	hasFrom := false
	for _, s := range senders {
		hasFrom = hasFrom || s.Field == "From"
	}
	if !hasFrom {
		return Deny(MailSender, "Die Nachricht hat keinen Absender (From:); bitte als %s@%s senden.", account, domain)
	}
	for _, s := range senders {
		local, dom, ok := SplitAddress(s.Address)
		if ok && dom == strings.ToLower(domain) {
			if local == account {
				continue
			}
			if g := s.Group; g != nil && (g.IsTeacher || l.GroupAddresses == GroupsAll) {
				continue
			}
		}
		return Deny(MailSender, "Als Absender (%s:) ist nur die eigene Adresse %s@%s erlaubt, nicht %q.", s.Field, account, domain, s.Address)
	}
	return Allowed
}
