package policy

import (
	"fmt"
	"strings"
)

// MailLimits are the MAIL-MASS limits of one role. Zero means unlimited.
type MailLimits struct {
	RecipientsPerMessage int
	MessagesPerHour      int
	// GroupAddresses says which group addresses (5a@domain) the role may
	// write to besides the groups it teaches: GroupsNone, GroupsMember
	// (groups the sender belongs to) or GroupsAll.
	GroupAddresses string
}

// Values of MailLimits.GroupAddresses.
const (
	GroupsNone   = "none"
	GroupsMember = "member"
	GroupsAll    = "all"
)

// DefaultMailLimits are the Nutzungsordnung's defaults: students 20
// recipients and 60 messages an hour, teachers 300 and 600, admins
// unlimited. Everybody may write to the groups they belong to.
func DefaultMailLimits() map[Role]MailLimits {
	return map[Role]MailLimits{
		Student: {RecipientsPerMessage: 20, MessagesPerHour: 60, GroupAddresses: GroupsMember},
		Teacher: {RecipientsPerMessage: 300, MessagesPerHour: 600, GroupAddresses: GroupsMember},
		Admin:   {GroupAddresses: GroupsAll},
		Auditor: {RecipientsPerMessage: 20, MessagesPerHour: 60, GroupAddresses: GroupsMember},
	}
}

// SplitAddress splits "local@domain" into lower-case parts.
func SplitAddress(addr string) (local, domain string, ok bool) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", false
	}
	return addr[:at], addr[at+1:], true
}

// CheckSender applies MAIL-INTERNAL to the envelope sender: it must be the
// authenticated account's own address.
func CheckSender(account, domain, from string) Decision {
	local, dom, ok := SplitAddress(from)
	if !ok || local != account || dom != strings.ToLower(domain) {
		return Deny(MailInternal, "Absender muss die eigene Adresse %s@%s sein.", account, domain)
	}
	return Allowed
}

// CheckRecipientDomain applies MAIL-INTERNAL to a recipient address:
// only the school's own domain. It returns the local part.
func CheckRecipientDomain(domain, rcpt string) (string, Decision) {
	local, dom, ok := SplitAddress(rcpt)
	if !ok || dom != strings.ToLower(domain) {
		return "", Deny(MailInternal, "E-Mail nur innerhalb der Schule (@%s); %q ist extern.", domain, rcpt)
	}
	return local, Allowed
}

// CheckRecipientCount applies MAIL-MASS to the n-th recipient of one
// message (a group address counts as one).
func (l MailLimits) CheckRecipientCount(n int) Decision {
	if l.RecipientsPerMessage > 0 && n > l.RecipientsPerMessage {
		return Deny(MailMass, "Höchstens %d Empfänger pro Nachricht (Massen-E-Mails sind nicht erlaubt).", l.RecipientsPerMessage)
	}
	return Allowed
}

// CheckRate applies MAIL-MASS to the next message of an account that sent
// sentLastHour messages in the last hour.
func (l MailLimits) CheckRate(sentLastHour int) Decision {
	if l.MessagesPerHour > 0 && sentLastHour >= l.MessagesPerHour {
		return Deny(MailMass, "Höchstens %d Nachrichten pro Stunde; bitte später erneut senden.", l.MessagesPerHour)
	}
	return Allowed
}

// CheckGroupAddress decides whether the sender may write to a group's
// address: the group's teachers always, others as their role allows.
func (l MailLimits) CheckGroupAddress(group string, isTeacher, isMember bool) Decision {
	switch {
	case isTeacher, l.GroupAddresses == GroupsAll, l.GroupAddresses == GroupsMember && isMember:
		return Allowed
	}
	return Deny(MailMass, "An die Gruppenadresse %s dürfen nur ihre Lehrkräfte%s schreiben.", group, groupHint(l))
}

func groupHint(l MailLimits) string {
	if l.GroupAddresses == GroupsMember {
		return " und Mitglieder"
	}
	return ""
}

// ValidGroupAddresses checks a configured GroupAddresses value.
func ValidGroupAddresses(v string) error {
	switch v {
	case GroupsNone, GroupsMember, GroupsAll:
		return nil
	}
	return fmt.Errorf("group_addresses %q: use %q, %q or %q", v, GroupsNone, GroupsMember, GroupsAll)
}
