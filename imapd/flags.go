package imapd

import (
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// systemFlags are matched case-insensitively and stored in their RFC
// spelling; keywords keep the spelling the client used.
var systemFlags = map[string]imap.Flag{}

func init() {
	for _, f := range []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft} {
		systemFlags[strings.ToLower(string(f))] = f
	}
}

// storeFlags turns client flags into stored ones: system flags
// canonical, \Recent (session-only, cannot be stored) dropped.
func storeFlags(flags []imap.Flag) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if sys, ok := systemFlags[strings.ToLower(string(f))]; ok {
			out = append(out, string(sys))
			continue
		}
		if strings.HasPrefix(string(f), `\`) {
			continue // \Recent, \* and unknown system flags
		}
		out = append(out, string(f))
	}
	return out
}

func imapFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}

// mailboxFlags is FLAGS for SELECT: every system flag plus the keywords in
// use, so clients see what they may set (not only what is set now).
func mailboxFlags(keywords map[string]struct{}) []imap.Flag {
	out := []imap.Flag{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagSeen, imap.FlagDraft}
	var kw []string
	for k := range keywords {
		kw = append(kw, k)
	}
	slices.Sort(kw)
	for _, k := range kw {
		out = append(out, imap.Flag(k))
	}
	return out
}
