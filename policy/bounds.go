package policy

import (
	"fmt"
	"sort"
)

// Bounds: every limit on what a user may send lives in this one table, so
// an operator reads them all in one place (`[bounds]` in the config,
// packaging/schulhof.toml) and a test can check that each is enforced.
// A bound is a number; what it counts is in its Unit. Daemons ask
// Engine.Bound for the number in force and Engine.CheckBound for the
// refusal, which names the bound's rule (LIMIT-*) and the number.

// BoundKey names one bound; it is also its key in the config's [bounds].
type BoundKey string

// BoundInfo describes one bound.
type BoundInfo struct {
	Key     BoundKey
	Rule    Rule   // named in every refusal
	Default int64  // the number in force unless the config says otherwise
	Unit    string // "bytes", "count", "seconds", "bytes/s"
	What    string // what is bounded, for operators (English)
}

// The bound rules. Several bounds may share a rule when they guard the same
// kind of input (all lock limits are LIMIT-LOCK).
const (
	LimitBody      Rule = "LIMIT-BODY"      // request bodies other than uploads
	LimitXML       Rule = "LIMIT-XML"       // WebDAV XML bodies
	LimitProps     Rule = "LIMIT-PROPS"     // WebDAV dead properties
	LimitLock      Rule = "LIMIT-LOCK"      // WebDAV locks
	LimitRanges    Rule = "LIMIT-RANGES"    // HTTP Range requests
	LimitMIME      Rule = "LIMIT-MIME"      // MIME structure of a message
	LimitHeader    Rule = "LIMIT-HEADER"    // message header size and lines
	LimitKeywords  Rule = "LIMIT-KEYWORDS"  // IMAP keywords
	LimitMailboxes Rule = "LIMIT-MAILBOXES" // IMAP mailboxes
	LimitEntries   Rule = "LIMIT-ENTRIES"   // files and folders in a tree
	LimitName      Rule = "LIMIT-NAME"      // names chosen by users or admins
	LimitConn      Rule = "LIMIT-CONN"      // connections before login
	LimitTimeout   Rule = "LIMIT-TIMEOUT"   // slow or silent clients
	LimitUploads   Rule = "LIMIT-UPLOADS"   // uploads of one account at once
	LimitMessage   Rule = "LIMIT-MESSAGE"   // one chat message or report
	LimitFlood     Rule = "LIMIT-FLOOD"     // messages per minute
	LimitFrame     Rule = "LIMIT-FRAME"     // one WebSocket frame
	LimitCalendar  Rule = "LIMIT-CALENDAR"  // calendar entries and their iCalendar
)

// Keys of the bounds (the config keys of [bounds]).
const (
	XMLBodyBytes           BoundKey = "xml_body_bytes"
	DeadPropertyBytes      BoundKey = "dead_property_bytes"
	DeadPropertiesPerItem  BoundKey = "dead_properties_per_resource"
	LockOwnerBytes         BoundKey = "lock_owner_bytes"
	LockTimeoutSeconds     BoundKey = "lock_timeout_seconds"
	LockTimeoutStudentSecs BoundKey = "lock_timeout_student_seconds"
	LocksPerAccount        BoundKey = "locks_per_account"
	RangesPerRequest       BoundKey = "ranges_per_request"
	OverlappingRanges      BoundKey = "overlapping_ranges"
	MIMEParts              BoundKey = "mime_parts"
	MIMEDepth              BoundKey = "mime_depth"
	HeaderBytes            BoundKey = "header_bytes"
	LineBytes              BoundKey = "line_bytes"
	KeywordsPerMailbox     BoundKey = "keywords_per_mailbox"
	KeywordBytes           BoundKey = "keyword_bytes"
	MailboxesPerAccount    BoundKey = "mailboxes_per_account"
	MailboxNameBytes       BoundKey = "mailbox_name_bytes"
	EntriesPerTree         BoundKey = "entries_per_tree"
	PathDepth              BoundKey = "path_depth"
	FileNameBytes          BoundKey = "file_name_bytes"
	AccountNameBytes       BoundKey = "account_name_bytes"
	GroupNameBytes         BoundKey = "group_name_bytes"
	PersonNameBytes        BoundKey = "person_name_bytes"
	UnauthConnsPerIP       BoundKey = "unauthenticated_connections_per_ip"
	HeaderTimeoutSeconds   BoundKey = "header_timeout_seconds"
	LoginTimeoutSeconds    BoundKey = "login_timeout_seconds"
	BodyMinBytesPerSecond  BoundKey = "body_min_bytes_per_second"
	IdleTimeoutSeconds     BoundKey = "idle_timeout_seconds"
	FormBodyBytes          BoundKey = "form_body_bytes"
	UploadsPerAccount      BoundKey = "uploads_per_account"
	ChatMessageBytes       BoundKey = "chat_message_bytes"
	ChatMessagesPerMinute  BoundKey = "chat_messages_per_minute"
	ChatFrameBytes         BoundKey = "chat_frame_bytes"
	ChatReportReasonBytes  BoundKey = "chat_report_reason_bytes"
	ChatSearchBytes        BoundKey = "chat_search_bytes"
	NicknameBytes          BoundKey = "nickname_bytes"
	SettingBytes           BoundKey = "setting_bytes"
	HomeworkTitleBytes     BoundKey = "homework_title_bytes"
	HomeworkTextBytes      BoundKey = "homework_text_bytes"
	HomeworkFeedbackBytes  BoundKey = "homework_feedback_bytes"
	HomeworkAttachments    BoundKey = "homework_attachments"
	HandinFiles            BoundKey = "homework_handin_files"
	ForumPostBytes         BoundKey = "forum_post_bytes"
	ForumTitleBytes        BoundKey = "forum_title_bytes"
	ForumSearchBytes       BoundKey = "forum_search_bytes"
	ForumPostsPerMinute    BoundKey = "forum_posts_per_minute"
	CardDAVQueryFilters    BoundKey = "carddav_query_filters"
	CalendarTitleBytes     BoundKey = "calendar_title_bytes"
	CalendarTextBytes      BoundKey = "calendar_description_bytes"
	CalendarEntriesPerCal  BoundKey = "calendar_entries_per_group"
	CalendarObjectBytes    BoundKey = "calendar_object_bytes"
	CalendarRevisions      BoundKey = "calendar_revisions_per_entry"
)

// BoundTable lists every bound with its default. Defaults follow what the
// operators' servers do where they have a number (Apache's LimitXMLRequestBody
// and MaxRanges, mod_reqtimeout's MinRate, Dovecot's MIME part limit).
var BoundTable = []BoundInfo{
	{XMLBodyBytes, LimitXML, 1_000_000, "bytes", "a WebDAV request body other than PUT (PROPFIND, PROPPATCH, LOCK; DELETE, COPY, … take none)"},
	{FormBodyBytes, LimitBody, 64 << 10, "bytes", "a form or API request body of the portal"},
	{DeadPropertyBytes, LimitProps, 16 << 10, "bytes", "one dead property (name and value) set by PROPPATCH"},
	{DeadPropertiesPerItem, LimitProps, 64, "count", "dead properties on one file or folder"},
	{LockOwnerBytes, LimitLock, 4 << 10, "bytes", "the <owner> of one WebDAV lock"},
	{LockTimeoutSeconds, LimitLock, 3600, "seconds", "the longest WebDAV lock a teacher or admin can take (Timeout: Infinite included)"},
	{LockTimeoutStudentSecs, LimitLock, 900, "seconds", "the longest WebDAV lock a student can take"},
	{LocksPerAccount, LimitLock, 100, "count", "WebDAV locks one account holds at once"},
	{RangesPerRequest, LimitRanges, 200, "count", "ranges in one Range header; more get the whole file"},
	{OverlappingRanges, LimitRanges, 20, "count", "overlapping ranges in one Range header; more get the whole file"},
	{MIMEParts, LimitMIME, 10_000, "count", "MIME parts of one message (SMTP DATA, IMAP APPEND)"},
	{MIMEDepth, LimitMIME, 50, "count", "nesting depth of multiparts in one message"},
	{HeaderBytes, LimitHeader, 256 << 10, "bytes", "the header of one message (all fields)"},
	{LineBytes, LimitHeader, 4000, "bytes", "one line of an SMTP command or message (RFC 5321: 1000; real clients exceed it)"},
	{KeywordsPerMailbox, LimitKeywords, 100, "count", "distinct IMAP keywords in one mailbox"},
	{KeywordBytes, LimitKeywords, 100, "bytes", "one IMAP keyword"},
	{MailboxesPerAccount, LimitMailboxes, 1000, "count", "IMAP mailboxes of one account"},
	{MailboxNameBytes, LimitMailboxes, 512, "bytes", "one IMAP mailbox name (full path)"},
	{EntriesPerTree, LimitEntries, 100_000, "count", "files and folders in one home or group folder"},
	{PathDepth, LimitEntries, 64, "count", "folder levels below a home or group folder"},
	{FileNameBytes, LimitName, 255, "bytes", "one file or folder name"},
	{UploadsPerAccount, LimitUploads, 10, "count", "WebDAV uploads (PUT) of one account at once; each holds up to SIZE-20MB on disk until it ends"},
	{AccountNameBytes, LimitName, 64, "bytes", "an account name (longer names are refused, never truncated)"},
	{GroupNameBytes, LimitName, 64, "bytes", "a group name (it is also the group's mail address)"},
	{PersonNameBytes, LimitName, 100, "bytes", "a person's first or last name"},
	{UnauthConnsPerIP, LimitConn, 32, "count", "connections from one IP address not yet logged in, over all listeners"},
	{HeaderTimeoutSeconds, LimitTimeout, 20, "seconds", "time to send a request's headers (HTTP) or a command line before login"},
	{BodyMinBytesPerSecond, LimitTimeout, 500, "bytes/s", "slowest accepted rate of a request body or an HTTP response, after a grace of header_timeout_seconds"},
	{IdleTimeoutSeconds, LimitTimeout, 120, "seconds", "idle time between requests on a kept-alive HTTP connection"},
	{LoginTimeoutSeconds, LimitTimeout, 60, "seconds", "time from connecting to a successful login on SMTP and IMAP (NOOPs do not keep a connection that never logs in)"},
	{ChatMessageBytes, LimitMessage, 4 << 10, "bytes", "one chat message (UTF-8)"},
	{ChatReportReasonBytes, LimitMessage, 1000, "bytes", "the reason given with a report"},
	{ChatSearchBytes, LimitMessage, 200, "bytes", "one chat search query"},
	{NicknameBytes, LimitName, 40, "bytes", "a nickname chosen in the portal"},
	{SettingBytes, LimitName, 200, "bytes", "one voluntary setting (status text) in the portal"},
	{HomeworkTitleBytes, LimitMessage, 200, "bytes", "the title of one homework task"},
	{HomeworkTextBytes, LimitMessage, 8 << 10, "bytes", "the text of one homework task"},
	{HomeworkFeedbackBytes, LimitMessage, 2000, "bytes", "a teacher's feedback on one hand-in"},
	{HomeworkAttachments, LimitEntries, 10, "count", "files attached to one homework task"},
	{HandinFiles, LimitEntries, 20, "count", "files one pupil hands in for one task"},
	{ChatMessagesPerMinute, LimitFlood, 30, "count", "chat messages one account sends per minute (flood control; burst the same)"},
	{ForumPostBytes, LimitMessage, 16 << 10, "bytes", "one forum post (UTF-8)"},
	{ForumTitleBytes, LimitMessage, 200, "bytes", "the title of a forum thread or a school-wide forum"},
	{ForumSearchBytes, LimitMessage, 200, "bytes", "one forum search query"},
	{ForumPostsPerMinute, LimitFlood, 6, "count", "forum posts (threads and replies) one account writes per minute (flood control; burst the same)"},
	{CardDAVQueryFilters, LimitXML, 50, "count", "prop-filters, text-matches and param-filters in one CardDAV addressbook-query (each is matched against every card)"},
	{CalendarTitleBytes, LimitCalendar, 200, "bytes", "the title (SUMMARY) or place (LOCATION) of one calendar entry"},
	{CalendarTextBytes, LimitCalendar, 4000, "bytes", "the description of one calendar entry"},
	{CalendarEntriesPerCal, LimitCalendar, 5000, "count", "entries in one group's calendar (deleted ones not counted)"},
	{CalendarObjectBytes, LimitCalendar, 64 << 10, "bytes", "one iCalendar object sent by CalDAV PUT"},
	{CalendarRevisions, LimitCalendar, 1000, "count", "revisions of one calendar entry (every revision is kept; an entry with this many takes no more changes)"},
	{ChatFrameBytes, LimitFrame, 16 << 10, "bytes", "one WebSocket frame read from a browser; a larger one closes the connection"},
}

// boundInfo finds a bound's row; it panics for a key not in the table,
// which is a programming error caught by every test that asks for it.
func boundInfo(k BoundKey) BoundInfo {
	for _, b := range BoundTable {
		if b.Key == k {
			return b
		}
	}
	panic("policy: unknown bound " + string(k))
}

// Bound is the number in force for k.
func (e *Engine) Bound(k BoundKey) int64 {
	if v, ok := e.bounds[k]; ok {
		return v
	}
	return boundInfo(k).Default
}

// SetBound overrides one bound (from the config's [bounds]). It refuses an
// unknown key or a number below 1, naming the key.
func (e *Engine) SetBound(k BoundKey, v int64) error {
	found := false
	for _, b := range BoundTable {
		found = found || b.Key == k
	}
	if !found {
		return fmt.Errorf("unknown bound %q (known: %s)", k, knownBounds())
	}
	if v < 1 {
		return fmt.Errorf("bound %s must be at least 1", k)
	}
	if e.bounds == nil {
		e.bounds = map[BoundKey]int64{}
	}
	e.bounds[k] = v
	return nil
}

// CheckBound refuses n when it is over the bound k, naming the bound's
// rule, the number and the config key that raises it.
func (e *Engine) CheckBound(k BoundKey, n int64) Decision {
	limit := e.Bound(k)
	if n <= limit {
		return Allowed
	}
	b := boundInfo(k)
	return Deny(b.Rule, "Grenze überschritten: %s (%s), höchstens %s.", b.What, k, formatBound(limit, b.Unit))
}

func formatBound(n int64, unit string) string {
	if unit == "bytes" {
		return FormatBytes(n)
	}
	return fmt.Sprintf("%d %s", n, unit)
}

func knownBounds() string {
	keys := make([]string, len(BoundTable))
	for i, b := range BoundTable {
		keys[i] = string(b.Key)
	}
	sort.Strings(keys)
	return fmt.Sprint(keys)
}
