package web

import (
	"strings"

	catalogtexts "schulhof/internal/texts"
	"schulhof/policy"
)

// ruleTexts explain a refusal in English; German users see the policy's
// own reason, which is more specific.
var ruleTexts = map[policy.Rule]string{
	policy.PWStrength:        "The password is too weak: at least 8 characters with upper and lower case letters, a digit and a special character; not a common password and not your name; different from the current one.",
	policy.AuthFailed:        "Login failed: wrong name or password.",
	policy.AuthThrottle:      "Too many failed attempts; please try again in a minute.",
	policy.AccountLocked:     "This account is locked.",
	policy.ConsentPlatform:   "Without consent to the use of the platform no login is possible.",
	policy.ConsentComms:      "Without consent to e-mail and chat these services are closed.",
	policy.ModuleOff:         "This module is not switched on for your school or group.",
	policy.ChatMember:        "Only members of the room can read and write in it.",
	policy.ChatReadReported:  "Administrators read chat only through a report.",
	policy.ChatDirect:        "You may not open a direct conversation with this person.",
	policy.ChatOwn:           "Only your own messages can be changed.",
	policy.LinkBlock:         "Links to this site are blocked.",
	policy.LimitMessage:      "The message is too long or empty.",
	policy.LimitFlood:        "Too many messages; please wait a moment.",
	policy.HomeworkAnnounced: "Homework must be announced in class; please confirm that you did.",
	policy.HomeworkPeriod:    "The period until the due date is too short (school days, Saturday and Sunday not counted).",
	policy.AuditInspect:      "Inspection needs an auditor, a reason, a case reference and a second auditor's approval; only those two see it, for a limited time.",
	policy.CalWrite:          "Only the group's teachers (and its members, where the group allows it) write in its calendar.",
	policy.CalData:           "The calendar entry is not valid (one event with a start; repeating at most daily).",
	policy.CalMember:         "Only the group's members and teachers see its calendar.",
	policy.ForumModScope:     "Moderators delete, hide and lock only in their own forum, and only what belongs to it.",
	policy.ForumMember:       "Only the group's members and teachers read and write in its forum.",
	policy.ForumLocked:       "This thread is locked; no more replies.",
	policy.LimitExports:      "A download of your data is already running; please wait until it has finished.",
}

// texts is the catalog of one language ("de" for anything unknown).
func texts(lang string) map[string]string { return catalogtexts.Of(lang) }

// refusal renders a decision in the user's language, always naming the rule.
func refusal(lang string, d policy.Decision) string {
	if s, ok := ruleTexts[d.Rule]; ok && lang == "en" {
		return "[" + string(d.Rule) + "] " + s
	}
	return d.String()
}

func roleText(t map[string]string, r string) string {
	if s, ok := t["role_"+strings.ToLower(r)]; ok {
		return s
	}
	return r
}
