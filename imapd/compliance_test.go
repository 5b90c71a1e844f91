package imapd

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"schulhof/internal/auth"
	"schulhof/policy"
)

// Compliance classes found with Dovecot's imaptest (the full suite runs in
// internal/e2e/imaptest_test.go); these run without it.

// raw is a line-level IMAP client: every command's untagged lines are kept.
type raw struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	n    int
}

func dialRaw(t *testing.T, addr string) *raw {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := &raw{t: t, conn: c, r: bufio.NewReader(c)}
	if l := r.line(); !strings.HasPrefix(l, "* OK") {
		t.Fatalf("greeting %q", l)
	}
	return r
}

// erikaInbox is a raw session of erika.muster with INBOX selected.
func erikaInbox(t *testing.T, addr string) *raw {
	t.Helper()
	r := dialRaw(t, addr)
	r.cmd("LOGIN erika.muster %s", pw)
	r.cmd("SELECT INBOX")
	return r
}

var literalAtEnd = regexp.MustCompile(`~?\{(\d+)\}\r\n$`)

// line reads one response line; a literal's bytes are skipped and shown
// as "{n}".
func (r *raw) line() string {
	r.t.Helper()
	var out strings.Builder
	for {
		l, err := r.r.ReadString('\n')
		if err != nil {
			r.t.Fatalf("read: %v (after %q)", err, out.String())
		}
		m := literalAtEnd.FindStringSubmatch(l)
		if m == nil {
			out.WriteString(strings.TrimRight(l, "\r\n"))
			return out.String()
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		out.WriteString(l[:len(l)-2])
		if _, err := io.CopyN(io.Discard, r.r, n); err != nil {
			r.t.Fatalf("literal: %v", err)
		}
	}
}

// cmd sends a command and returns its untagged lines; the tagged answer
// must be OK.
func (r *raw) cmd(format string, args ...any) []string {
	r.t.Helper()
	untagged, status := r.try(format, args...)
	if !strings.HasPrefix(status, "OK") {
		r.t.Fatalf("%s: %s", fmt.Sprintf(format, args...), status)
	}
	return untagged
}

func (r *raw) try(format string, args ...any) (untagged []string, status string) {
	r.t.Helper()
	r.n++
	tag := fmt.Sprintf("t%d", r.n)
	fmt.Fprintf(r.conn, "%s %s\r\n", tag, fmt.Sprintf(format, args...))
	for {
		l := r.line()
		if strings.HasPrefix(l, tag+" ") {
			return untagged, l[len(tag)+1:]
		}
		untagged = append(untagged, l)
	}
}

func has(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func index(lines []string, sub string) int {
	for i, l := range lines {
		if strings.Contains(l, sub) {
			return i
		}
	}
	return -1
}

// LIST "" "" names the delimiter (Thunderbird asks exactly this); a
// pattern that is not modified UTF-7 is answered, not a server error.
func TestLISTDelimiterAndOddPatterns(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	r := dialRaw(t, e.addr)
	r.cmd("LOGIN erika.muster %s", pw)
	if l := r.cmd(`LIST "" ""`); !has(l, `* LIST (\Noselect) "/" ""`) {
		t.Fatalf(`LIST "" "": %q`, l)
	}
	if l := r.cmd(`LSUB "" ""`); !has(l, `"/"`) {
		t.Fatalf(`LSUB "" "": %q`, l)
	}
	r.cmd(`LIST "" !#$&'+,-.0123456789:;<=>?@^_|[}%%*`)
	r.cmd(`LIST "" &-*`)
}

// ID works before login and keeps the connection (RFC 2971).
func TestIDBeforeLogin(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	r := dialRaw(t, e.addr)
	if l := r.cmd("CAPABILITY"); !has(l, " ID") {
		t.Fatalf("no ID capability: %q", l)
	}
	if l := r.cmd(`ID ("name" "Thunderbird" "version" "128.0")`); !has(l, `* ID ("name" "Schulhof")`) {
		t.Fatalf("ID: %q", l)
	}
	if l := r.cmd("ID NIL"); !has(l, "* ID (") {
		t.Fatalf("ID NIL: %q", l)
	}
	if _, st := r.try(`ID ("name")`); !strings.HasPrefix(st, "BAD") {
		t.Fatalf("ID without value: %s", st)
	}
	r.cmd("LOGIN erika.muster %s", pw)
}

// \Recent belongs to the first read-write session that sees a message;
// EXAMINE and STATUS show it without taking it; IMAP4rev2 never sees it.
func TestRecent(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	e.deliver(t, sample, "erika.muster")
	a := dialRaw(t, e.addr)
	a.cmd("LOGIN erika.muster %s", pw)
	if l := a.cmd("EXAMINE INBOX"); !has(l, "* 2 RECENT") {
		t.Fatalf("EXAMINE: %q", l)
	}
	if l := a.cmd("STATUS INBOX (RECENT)"); !has(l, "RECENT 2") {
		t.Fatalf("STATUS: %q", l)
	}
	if l := a.cmd("SELECT INBOX"); !has(l, "* 2 RECENT") {
		t.Fatalf("SELECT: %q", l)
	}
	if l := a.cmd("FETCH 1 FLAGS"); !has(l, `\Recent`) {
		t.Fatalf("FETCH: %q", l)
	}
	if l := a.cmd("SEARCH RECENT"); !has(l, "* SEARCH 1 2") {
		t.Fatalf("SEARCH RECENT: %q", l)
	}
	b := selectRecent(t, e, 0)
	// Another session's flag change keeps \Recent in this one's FETCH.
	b.cmd("STORE 1 +FLAGS (\\Flagged)")
	var upd []string
	waitUntil(t, func() bool { upd = append(upd, a.cmd("NOOP")...); return has(upd, "* 1 FETCH") })
	if !has(upd, `\Recent`) || !has(upd, `\Flagged`) {
		t.Fatalf("unilateral FETCH: %q", upd)
	}
	e.deliver(t, sample, "erika.muster")
	// The arrival is recent in exactly one of the two sessions, which
	// says so with RECENT after EXISTS.
	seenA, seenB := noopUntilBoth(t, a, b, "* 3 EXISTS")
	inA, inB := has(a.cmd("FETCH 3 FLAGS"), `\Recent`), has(b.cmd("FETCH 3 FLAGS"), `\Recent`)
	if inA == inB || (inA && !has(seenA, "* 3 RECENT")) || (inB && !has(seenB, "* 1 RECENT")) {
		t.Fatalf("arrival recent in A %v (%q), in B %v (%q)", inA, seenA, inB, seenB)
	}
	a.cmd("LOGOUT")
	c := dialRaw(t, e.addr)
	c.cmd("LOGIN erika.muster %s", pw)
	c.cmd("ENABLE IMAP4rev2")
	if l := c.cmd("SELECT INBOX"); has(l, "RECENT") {
		t.Fatalf("IMAP4rev2 SELECT: %q", l)
	}
}

// A session's recent messages are the ones it claimed, whatever happens
// around them: another session's expunge takes one out of the count, and
// arrivals after another session selected are that session's, not this
// one's (the set is a UID range, recent.go).
func TestRecentAcrossExpungeAndOwnership(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	for range 5 {
		e.deliver(t, sample, "erika.muster")
	}
	a := selectRecent(t, e, 5)
	b := selectRecent(t, e, 0)
	b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
	b.cmd("EXPUNGE")
	var seen []string
	waitUntil(t, func() bool { seen = append(seen, a.cmd("NOOP")...); return has(seen, "* 2 EXPUNGE") })
	if !has(seen, "* 4 RECENT") {
		t.Fatalf("after the expunge: %q", seen)
	}
	e.deliver(t, sample, "erika.muster")
	seenA, seenB := noopUntilBoth(t, a, b, "* 5 EXISTS")
	if has(seenA, "RECENT") || !has(seenB, "* 1 RECENT") {
		t.Fatalf("the arrival after B's SELECT: A %q, B %q", seenA, seenB)
	}
	if l := a.cmd("FETCH 5 FLAGS"); has(l, `\Recent`) {
		t.Fatalf("A sees B's arrival as recent: %q", l)
	}
	if l := b.cmd("FETCH 5 FLAGS"); !has(l, `\Recent`) {
		t.Fatalf("B does not see its arrival as recent: %q", l)
	}
	if l := a.cmd("SEARCH RECENT"); !has(l, "* SEARCH 1 2 3 4") {
		t.Fatalf("SEARCH RECENT in A: %q", l)
	}
	if l := a.cmd("FETCH 1:4 FLAGS"); strings.Count(strings.Join(l, "\n"), `\Recent`) != 4 {
		t.Fatalf("FETCH 1:4 in A: %q", l)
	}
}

// selectRecent is a new session of erika.muster with INBOX selected,
// whose SELECT reported want recent messages.
func selectRecent(t *testing.T, e *env, want int) *raw {
	t.Helper()
	r := dialRaw(t, e.addr)
	r.cmd("LOGIN erika.muster %s", pw)
	if l := r.cmd("SELECT INBOX"); !has(l, fmt.Sprintf("* %d RECENT", want)) {
		t.Fatalf("SELECT in a new session: %q, want %d RECENT", l, want)
	}
	return r
}

// noopUntilBoth polls both sessions with NOOP until each has answered
// want, and returns everything each was told meanwhile.
func noopUntilBoth(t *testing.T, a, b *raw, want string) (seenA, seenB []string) {
	t.Helper()
	waitUntil(t, func() bool {
		seenA, seenB = append(seenA, a.cmd("NOOP")...), append(seenB, b.cmd("NOOP")...)
		return has(seenA, want) && has(seenB, want)
	})
	return seenA, seenB
}

// waitUntil polls a condition that depends on the change feed.
func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A keyword used for the first time is in FLAGS before any FETCH shows
// it, for the session that set it and for the others; keywords compare
// without case.
func TestNewKeywordInFLAGS(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	a := erikaInbox(t, e.addr)
	b := erikaInbox(t, e.addr)

	l := a.cmd("STORE 1 +FLAGS ($Projekt)")
	f, x := index(l, "* FLAGS"), index(l, "* 1 FETCH")
	if f < 0 || x < 0 || f > x || !strings.Contains(l[f], "$Projekt") {
		t.Fatalf("STORE answer: %q", l)
	}
	// The other session asks FETCH FLAGS before any NOOP: FLAGS first.
	if l := b.cmd("FETCH 1 FLAGS"); index(l, "* FLAGS") < 0 || index(l, "* FLAGS") > index(l, "$Projekt") {
		t.Fatalf("other session: %q", l)
	}
	a.cmd("STORE 1 +FLAGS ($Neu)")
	if l := b.cmd("STORE 1 +FLAGS (\\Seen)"); index(l, "* FLAGS") < 0 || index(l, "* FLAGS") > index(l, "$Neu") {
		t.Fatalf("other session's STORE: %q", l)
	}
	if l := a.cmd("STORE 1 +FLAGS ($PROJEKT)"); has(l, "$PROJEKT") {
		t.Fatalf("second spelling stored: %q", l)
	}
	if l := a.cmd("SEARCH KEYWORD $projekt"); !has(l, "* SEARCH 1") {
		t.Fatalf("SEARCH KEYWORD: %q", l)
	}
}

// A new keyword queued behind an expunge: a FETCH may not report the
// expunge (RFC 3501 7.4.1), so its poll stops there, but the FLAGS that
// names the keyword still comes before the FETCH that shows it.
func TestNewKeywordBehindQueuedExpunge(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	e.deliver(t, sample, "erika.muster")
	a := erikaInbox(t, e.addr)
	b := erikaInbox(t, e.addr)

	a.cmd("STORE 1 +FLAGS (\\Deleted)")
	a.cmd("EXPUNGE")
	a.cmd("STORE 1 +FLAGS ($Spaet)") // the message b still calls 2
	// A command whose poll may not expunge (and shows no flags) first.
	if l := b.cmd("FETCH 1 (UID)"); has(l, "EXPUNGE") {
		t.Fatalf("EXPUNGE during FETCH: %q", l)
	}
	l := b.cmd("FETCH 2 FLAGS")
	f, x := index(l, "* FLAGS"), index(l, "* 2 FETCH")
	if x < 0 || !strings.Contains(l[x], "$Spaet") {
		t.Fatalf("FETCH answer without the keyword: %q", l)
	}
	if f < 0 || f > x || !strings.Contains(l[f], "$Spaet") {
		t.Fatalf("FETCH shows $Spaet before FLAGS names it: %q", l)
	}
	if has(l, "EXPUNGE") {
		t.Fatalf("EXPUNGE during FETCH: %q", l)
	}
}

// A keyword no message carries any more stays in FLAGS, also for a server started anew on the same store (the
// list is the store's, not the process's).
func TestKeywordsOutliveRestart(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	e.deliver(t, sample, "erika.muster")
	a := erikaInbox(t, e.addr)
	a.cmd("STORE 1 +FLAGS ($Entwurf)")
	a.cmd("STORE 1 -FLAGS ($Entwurf)")
	a.cmd("STORE 2 +FLAGS (\\Deleted $Weg)")
	a.cmd("EXPUNGE")
	a.cmd("LOGOUT")

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	v := auth.New(e.st, auth.Options{Domain: "schule.test", CacheTTL: time.Minute})
	srv := New(Options{Store: e.st, Auth: v, Policy: policy.NewEngine(), Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); v.Close() })
	b := dialRaw(t, ln.Addr().String())
	b.cmd("LOGIN erika.muster %s", pw)
	l := b.cmd("SELECT INBOX")
	i := index(l, "* FLAGS")
	if i < 0 || !strings.Contains(l[i], "$Entwurf") || !strings.Contains(l[i], "$Weg") {
		t.Errorf("FLAGS after restart: %q", l)
	}
	// PERMANENTFLAGS names the keywords with \* (any may be set).
	if i := index(l, "PERMANENTFLAGS"); i < 0 || !strings.Contains(l[i], `\*`) {
		t.Errorf("PERMANENTFLAGS after restart: %q", l)
	}
}

// Subscriptions are names: they outlive their mailbox (\NonExistent),
// CREATE does not subscribe, LSUB "%" shows an unsubscribed parent as
// \Noselect (RFC 3501 §6.3.9), RECURSIVEMATCH gives CHILDINFO.
func TestSubscriptions(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	r := dialRaw(t, e.addr)
	r.cmd("LOGIN erika.muster %s", pw)
	r.cmd("CREATE Kurs/Bio")
	r.cmd("CREATE Alt")
	if l := r.cmd(`LIST (SUBSCRIBED) "" "Kurs*"`); len(l) != 0 {
		t.Fatalf("CREATE subscribed: %q", l)
	}
	r.cmd("SUBSCRIBE Kurs/Bio")
	r.cmd("SUBSCRIBE Alt")
	r.cmd("DELETE Alt")
	if l := r.cmd(`LIST (SUBSCRIBED) "" Alt`); !has(l, `\NonExistent`) || !has(l, `\Subscribed`) {
		t.Fatalf("deleted subscribed: %q", l)
	}
	if l := r.cmd(`LSUB "" %%`); !has(l, `* LSUB (\Noselect) "/" "Kurs"`) {
		t.Fatalf("LSUB %%: %q", l)
	}
	if l := r.cmd(`LIST (SUBSCRIBED RECURSIVEMATCH) "" %%`); !has(l, `"Kurs" (CHILDINFO ("SUBSCRIBED"))`) && !has(l, `Kurs (CHILDINFO ("SUBSCRIBED"))`) {
		t.Fatalf("RECURSIVEMATCH: %q", l)
	}
}

// MOVE into the selected mailbox itself gives the message a new UID.
func TestMoveIntoSameMailbox(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, sample, "erika.muster")
	r := erikaInbox(t, e.addr)
	l := r.cmd("MOVE 1 INBOX")
	x, n := index(l, "* 1 EXPUNGE"), index(l, "* 1 EXISTS")
	if !has(l, "COPYUID") || x < 0 || n < x {
		t.Fatalf("MOVE: %q", l)
	}
	if l := r.cmd("FETCH 1 UID"); !has(l, "UID 2") {
		t.Fatalf("after MOVE: %q", l)
	}
}

// BODY[n] streams the part: fetching an 8 MiB attachment allocates far
// less than the attachment.
func TestFetchPartStreams(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	const size = 8 << 20
	var b strings.Builder
	b.WriteString("Subject: gross\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n")
	b.WriteString("--B\r\nContent-Type: text/plain\r\n\r\nHallo\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := strings.Repeat("QUJD", 19) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	b.WriteString("--B--\r\n")
	e.deliver(t, b.String(), "erika.muster")
	r := erikaInbox(t, e.addr)
	r.cmd("FETCH 1 BODY.PEEK[2]<0.10>") // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := r.cmd("FETCH 1 BODY.PEEK[2]")
	runtime.ReadMemStats(&after)
	if !has(l, "BODY[2] {") {
		t.Fatalf("FETCH: %q", l)
	}
	if m := regexp.MustCompile(`\{(\d+)\}`).FindStringSubmatch(l[0]); m == nil || len(m[1]) < 7 {
		t.Fatalf("part length: %q", l[0])
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Fatalf("FETCH BODY[2] allocated %d bytes for a %d byte part", alloc, size)
	}
	// BINARY[2] decodes while streaming (6 MiB decoded).
	runtime.GC()
	runtime.ReadMemStats(&before)
	l = r.cmd("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2])")
	runtime.ReadMemStats(&after)
	if !has(l, "BINARY[2] ~{") || !has(l, "BINARY.SIZE[2] ") {
		t.Fatalf("FETCH BINARY: %q", l)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Fatalf("FETCH BINARY[2] allocated %d bytes for a %d byte part", alloc, size)
	}
}

// BINARY of a part in a transfer encoding the server cannot undo is
// refused with UNKNOWN-CTE (RFC 3516 §4.2), for the part, the
// single-part message and BINARY.SIZE alike; a known encoding next to it
// still decodes and BODY[] still gives the part as it is.
func TestBinaryUnknownCTE(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	e.deliver(t, "Subject: uu\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"+
		"--B\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGFsbG8=\r\n"+
		"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n`\r\nend\r\n"+
		"--B--\r\n", "erika.muster")
	e.deliver(t, "Subject: uu\r\nContent-Transfer-Encoding: X-Unbekannt\r\n\r\nabc\r\n", "erika.muster")
	r := erikaInbox(t, e.addr)
	if l := r.cmd("FETCH 1 BINARY.PEEK[1]"); !has(l, "BINARY[1] ~{5}") && !has(l, "BINARY[1] {5}") {
		t.Fatalf("BINARY[1] (base64): %q", l)
	}
	for _, c := range []string{"FETCH 1 BINARY.PEEK[2]", "FETCH 1 BINARY.SIZE[2]", "FETCH 2 BINARY.PEEK[1]", "FETCH 2 BINARY.PEEK[]", "UID FETCH 2 BINARY.SIZE[1]"} {
		if l, st := r.try("%s", c); !strings.HasPrefix(st, "NO [UNKNOWN-CTE]") || has(l, "BINARY") {
			t.Errorf("%s: %q, %s", c, l, st)
		}
	}
	if l := r.cmd("FETCH 1 BODY.PEEK[2]"); !has(l, "BODY[2] {") {
		t.Fatalf("BODY[2]: %q", l)
	}
	// Refused, a BINARY (or a BINARY.SIZE beside a BODY[]) without PEEK
	// marks nothing \Seen.
	for _, c := range []string{"FETCH 1:2 BINARY[2]", "FETCH 1 (BODY[] BINARY.SIZE[2])"} {
		if _, st := r.try("%s", c); !strings.HasPrefix(st, "NO [UNKNOWN-CTE]") {
			t.Fatalf("%s: %s", c, st)
		}
		if l := r.cmd("FETCH 1:2 FLAGS"); has(l, `\Seen`) {
			t.Fatalf("a refused %s set \\Seen: %q", c, l)
		}
	}
}

// A message arriving during IDLE is announced with EXISTS and RECENT.
func TestRecentDuringIdle(t *testing.T) {
	e := newEnv(t, "Erika Muster")
	r := erikaInbox(t, e.addr)
	fmt.Fprintf(r.conn, "i1 IDLE\r\n")
	if l := r.line(); !strings.HasPrefix(l, "+") {
		t.Fatalf("IDLE: %q", l)
	}
	e.deliver(t, sample, "erika.muster")
	if l := r.line(); l != "* 1 EXISTS" {
		t.Fatalf("first update %q", l)
	}
	if l := r.line(); l != "* 1 RECENT" {
		t.Fatalf("after EXISTS %q", l)
	}
	fmt.Fprintf(r.conn, "DONE\r\n")
	if l := r.line(); !strings.HasPrefix(l, "i1 OK") {
		t.Fatalf("DONE: %q", l)
	}
}
