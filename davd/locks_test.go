package davd

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// lockBody is a LOCK request body with an owner of ownerBytes bytes.
func lockBody(scope string, ownerBytes int) string {
	return `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:` + scope +
		`/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>` +
		strings.Repeat("o", ownerBytes) + `</D:href></D:owner></D:lockinfo>`
}

// lock takes a lock and returns status, token and body.
func (e *env) lock(t *testing.T, user, path, scope, depth, timeout string) (int, string, string) {
	t.Helper()
	hdr := []string{"Depth", depth}
	if timeout != "" {
		hdr = append(hdr, "Timeout", timeout)
	}
	r, body := e.do(t, user, "LOCK", path, strings.NewReader(lockBody(scope, 10)), hdr...)
	return r.StatusCode, strings.Trim(r.Header.Get("Lock-Token"), "<>"), body
}

// classroom is a group with a teacher and two students, and a file and a
// folder in the group folder.
type classroom struct {
	e                   *env
	teacher, s1, s2, s3 string
}

func newClassroom(t *testing.T) classroom {
	e := newEnv(t)
	c := classroom{e: e,
		teacher: e.user(t, "Frau", "Lehrer", policy.Teacher),
		s1:      e.user(t, "Anna", "Eins", policy.Student, "8b"),
		s2:      e.user(t, "Ben", "Zwei", policy.Student, "8b"),
		s3:      e.user(t, "Cem", "Drei", policy.Student, "8b"),
	}
	if _, err := e.st.AddToGroup("8b", store.AsTeacher, c.teacher); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("Aufgabe")); r.StatusCode != 201 {
		t.Fatal(r.StatusCode)
	}
	if r, _ := e.do(t, c.teacher, "MKCOL", "/dav/groups/8b/abgabe", nil); r.StatusCode != 201 {
		t.Fatal(r.StatusCode)
	}
	return c
}

// TestLockTokenIsThePrincipals: a token works only for the account that
// took the lock. Others see the lock without its token, cannot write
// through it nor remove it.
func TestLockTokenIsThePrincipals(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	code, tok, _ := e.lock(t, c.teacher, "/dav/groups/8b/aufgabe.txt", "exclusive", "0", "Second-600")
	if code != 200 || tok == "" {
		t.Fatalf("teacher LOCK: %d", code)
	}
	// The student sees that it is locked, not the token.
	r, body := e.do(t, c.s1, "PROPFIND", "/dav/groups/8b/aufgabe.txt", strings.NewReader(
		`<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>`), "Depth", "0")
	if r.StatusCode != 207 || !contains(body, "activelock") || contains(body, tok) || contains(body, "locktoken") {
		t.Errorf("student's lockdiscovery: %d %s", r.StatusCode, body)
	}
	// The teacher sees her own token.
	if _, body := e.do(t, c.teacher, "PROPFIND", "/dav/groups/8b/aufgabe.txt", strings.NewReader(
		`<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>`), "Depth", "0"); !contains(body, tok) {
		t.Errorf("teacher's lockdiscovery lacks her token: %s", body)
	}
	// Writing with the teacher's token is as if no token were given.
	for _, ifh := range []string{"(<" + tok + ">)", "<" + e.srv.URL + "/dav/groups/8b/aufgabe.txt> (<" + tok + ">)", "(<" + tok + ">) (Not <DAV:no-lock>)"} {
		if r, _ := e.do(t, c.s1, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("gefälscht"), "If", ifh); r.StatusCode/100 == 2 {
			t.Errorf("student PUT with If %s: %d", ifh, r.StatusCode)
		}
	}
	for _, m := range []string{"DELETE", "PROPPATCH"} {
		if r, _ := e.do(t, c.s1, m, "/dav/groups/8b/aufgabe.txt", nil, "If", "(<"+tok+">)"); r.StatusCode/100 == 2 {
			t.Errorf("student %s with the teacher's token: %d", m, r.StatusCode)
		}
	}
	if r, _ := e.do(t, c.s1, "MOVE", "/dav/groups/8b/aufgabe.txt", nil, "If", "(<"+tok+">)",
		"Destination", e.srv.URL+"/dav/home/mine.txt"); r.StatusCode/100 == 2 {
		t.Errorf("student MOVE with the teacher's token: %d", r.StatusCode)
	}
	// Nor can she refresh or remove it.
	if r, _ := e.do(t, c.s1, "LOCK", "/dav/groups/8b/aufgabe.txt", nil, "If", "(<"+tok+">)"); r.StatusCode/100 == 2 {
		t.Errorf("student refreshed the teacher's lock: %d", r.StatusCode)
	}
	if r, body := e.do(t, c.s1, "UNLOCK", "/dav/groups/8b/aufgabe.txt", nil, "Lock-Token", "<"+tok+">"); r.StatusCode != 403 || !contains(body, "[LIMIT-LOCK]") {
		t.Errorf("student UNLOCK of the teacher's lock: %d %s", r.StatusCode, body)
	}
	if _, body := e.do(t, c.teacher, "GET", "/dav/groups/8b/aufgabe.txt", nil); body != "Aufgabe" {
		t.Errorf("file changed: %q", body)
	}
	// The teacher writes through her lock.
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("Neu"), "If", "(<"+tok+">)"); r.StatusCode != 204 {
		t.Errorf("teacher PUT with her token: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.teacher, "UNLOCK", "/dav/groups/8b/aufgabe.txt", nil, "Lock-Token", "<"+tok+">"); r.StatusCode != 204 {
		t.Errorf("teacher UNLOCK: %d", r.StatusCode)
	}
}

// TestStudentLockScope: in a group folder a student locks only files, not
// folders (any depth), her locks are short, and the group's teacher may
// remove them; classmates may not.
func TestStudentLockScope(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	for _, l := range []struct{ path, depth string }{
		{"/dav/groups/8b/", "infinity"}, {"/dav/groups/8b/", "0"},
		{"/dav/groups/8b/abgabe/", "infinity"}, {"/dav/groups/8b/abgabe/", "0"},
	} {
		code, _, body := e.lock(t, c.s1, l.path, "exclusive", l.depth, "Infinite")
		if code != 403 || !contains(body, "[LIMIT-LOCK]") {
			t.Errorf("student LOCK %s depth %s: %d %s", l.path, l.depth, code, body)
		}
		code, _, _ = e.lock(t, c.s1, l.path, "shared", l.depth, "Infinite")
		if code != 403 {
			t.Errorf("student shared LOCK %s depth %s: %d", l.path, l.depth, code)
		}
	}
	// The teacher can still work in the folder.
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/abgabe/x.txt", strings.NewReader("x")); r.StatusCode != 201 {
		t.Errorf("teacher PUT: %d", r.StatusCode)
	}
	// A file lock is fine, Infinite becomes the student cap.
	code, tok, body := e.lock(t, c.s1, "/dav/groups/8b/aufgabe.txt", "exclusive", "infinity", "Infinite")
	studentCap := e.h.opt.Policy.Bound(policy.LockTimeoutStudentSecs)
	if code != 200 || !contains(body, fmt.Sprintf("<D:timeout>Second-%d</D:timeout>", studentCap)) {
		t.Fatalf("student file LOCK: %d %s", code, body)
	}
	// A classmate sees no token and cannot remove it.
	_, body = e.do(t, c.s2, "PROPFIND", "/dav/groups/8b/aufgabe.txt", nil, "Depth", "0")
	if contains(body, tok) {
		t.Errorf("classmate sees the token: %s", body)
	}
	if r, _ := e.do(t, c.s2, "UNLOCK", "/dav/groups/8b/aufgabe.txt", nil, "Lock-Token", "<"+tok+">"); r.StatusCode != 403 {
		t.Errorf("classmate UNLOCK: %d", r.StatusCode)
	}
	// The teacher is locked out for now, but sees the token and removes it.
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("Lehrer")); r.StatusCode != 423 {
		t.Errorf("teacher PUT on the student's lock: %d", r.StatusCode)
	}
	_, body = e.do(t, c.teacher, "PROPFIND", "/dav/groups/8b/aufgabe.txt", nil, "Depth", "0")
	if !contains(body, tok) {
		t.Errorf("teacher does not see the student's token: %s", body)
	}
	// Her token is still only the student's: it does not let the teacher write.
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("Lehrer"), "If", "(<"+tok+">)"); r.StatusCode/100 == 2 {
		t.Errorf("teacher wrote through the student's token: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.teacher, "UNLOCK", "/dav/groups/8b/aufgabe.txt", nil, "Lock-Token", "<"+tok+">"); r.StatusCode != 204 {
		t.Errorf("teacher UNLOCK of the student's lock: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("Lehrer")); r.StatusCode != 204 {
		t.Errorf("teacher PUT after UNLOCK: %d", r.StatusCode)
	}
	// A teacher does not break another teacher's lock.
	t2 := e.user(t, "Herr", "Zweit", policy.Teacher)
	if _, err := e.st.AddToGroup("8b", store.AsTeacher, t2); err != nil {
		t.Fatal(err)
	}
	_, tok, _ = e.lock(t, c.teacher, "/dav/groups/8b/abgabe/", "exclusive", "infinity", "")
	if r, _ := e.do(t, t2, "UNLOCK", "/dav/groups/8b/abgabe/", nil, "Lock-Token", "<"+tok+">"); r.StatusCode != 403 {
		t.Errorf("teacher broke a colleague's lock: %d", r.StatusCode)
	}
}

// TestLockTimeouts: no lock is infinite; the granted timeout is in the
// answer, expired locks stop blocking and leave the table.
func TestLockTimeouts(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	teacherCap := e.h.opt.Policy.Bound(policy.LockTimeoutSeconds)
	for _, to := range []string{"Infinite", "", "Second-99999999999", "Infinite, Second-4100000000"} {
		code, tok, body := e.lock(t, c.teacher, "/dav/groups/8b/aufgabe.txt", "exclusive", "0", to)
		if code != 200 || !contains(body, fmt.Sprintf("Second-%d<", teacherCap)) {
			t.Errorf("teacher LOCK Timeout %q: %d %s", to, code, body)
		}
		e.do(t, c.teacher, "UNLOCK", "/dav/groups/8b/aufgabe.txt", nil, "Lock-Token", "<"+tok+">")
	}
	if code, _, body := e.lock(t, c.teacher, "/dav/groups/8b/aufgabe.txt", "exclusive", "0", "Second-60"); code != 200 || !contains(body, "Second-60<") {
		t.Errorf("short lock not kept: %d %s", code, body)
	}
	// A pupil's depth-infinity, "infinite" lock on her home folder ends.
	code, tok, _ := e.lock(t, c.s1, "/dav/home/", "exclusive", "infinity", "Infinite")
	if code != 200 {
		t.Fatalf("student home LOCK: %d", code)
	}
	// Refreshing asks for Infinite again and gets the cap.
	if r, body := e.do(t, c.s1, "LOCK", "/dav/home/", nil, "If", "(<"+tok+">)", "Timeout", "Infinite"); r.StatusCode != 200 ||
		!contains(body, fmt.Sprintf("Second-%d<", e.h.opt.Policy.Bound(policy.LockTimeoutStudentSecs))) {
		t.Errorf("refresh: %d %s", r.StatusCode, body)
	}
	e.advance(time.Duration(teacherCap+1) * time.Second)
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("frei")); r.StatusCode != 204 {
		t.Errorf("PUT after the lock expired: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.s1, "PUT", "/dav/home/a.txt", strings.NewReader("frei")); r.StatusCode != 201 {
		t.Errorf("PUT after the home lock expired: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.s1, "UNLOCK", "/dav/home/", nil, "Lock-Token", "<"+tok+">"); r.StatusCode != 409 {
		t.Errorf("UNLOCK of an expired lock: %d", r.StatusCode)
	}
	// The periodic sweep leaves nothing behind, also in trees nobody touches.
	e.lock(t, c.s2, "/dav/home/", "exclusive", "infinity", "")
	e.advance(time.Hour)
	e.do(t, c.s1, "PROPFIND", "/dav/home/", nil, "Depth", "0")
	e.h.locks.mu.Lock()
	n, accounts := len(e.h.locks.byToken), len(e.h.locks.perAccount)
	e.h.locks.mu.Unlock()
	if n != 0 || accounts != 0 {
		t.Errorf("%d expired locks (%d accounts) still in the table", n, accounts)
	}
}

// TestLockBounds: owner size and locks per account are bounded; the body
// bound comes first for a multi-MiB owner.
func TestLockBounds(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	owner := int(e.h.opt.Policy.Bound(policy.LockOwnerBytes))
	if r, body := e.do(t, c.s1, "LOCK", "/dav/home/a.txt", strings.NewReader(lockBody("exclusive", 4<<20))); r.StatusCode != 413 || !contains(body, "[LIMIT-XML]") {
		t.Errorf("4 MiB owner: %d %s", r.StatusCode, body)
	}
	if r, body := e.do(t, c.s1, "LOCK", "/dav/home/a.txt", strings.NewReader(lockBody("exclusive", owner+1))); r.StatusCode != 403 || !contains(body, "[LIMIT-LOCK]") {
		t.Errorf("owner over the bound: %d %s", r.StatusCode, body)
	}
	if r, body := e.do(t, c.s1, "LOCK", "/dav/home/a.txt", strings.NewReader(lockBody("exclusive", owner-40))); r.StatusCode/100 != 2 {
		t.Errorf("owner under the bound: %d %s", r.StatusCode, body)
	}
	if err := e.h.opt.Policy.SetBound(policy.LocksPerAccount, 3); err != nil {
		t.Fatal(err)
	}
	var toks []string
	for i := range 2 {
		code, tok, _ := e.lock(t, c.s1, fmt.Sprintf("/dav/home/f%d.txt", i), "exclusive", "0", "")
		if code != 201 {
			t.Fatalf("lock %d: %d", i, code)
		}
		toks = append(toks, tok)
	}
	if code, _, body := e.lock(t, c.s1, "/dav/home/f9.txt", "exclusive", "0", ""); code != 403 || !contains(body, "[LIMIT-LOCK]") || !contains(body, "locks_per_account") {
		t.Errorf("fourth lock: %d %s", code, body)
	}
	// The bound is per account.
	if code, _, _ := e.lock(t, c.s2, "/dav/home/f9.txt", "exclusive", "0", ""); code != 201 {
		t.Errorf("another account's lock: %d", code)
	}
	e.do(t, c.s1, "UNLOCK", "/dav/home/f0.txt", nil, "Lock-Token", "<"+toks[0]+">")
	if code, _, _ := e.lock(t, c.s1, "/dav/home/f9.txt", "exclusive", "0", ""); code != 201 {
		t.Errorf("lock after UNLOCK: %d", code)
	}
	// Virtual folders cannot be locked.
	for _, p := range []string{"/dav/", "/dav/groups/"} {
		if code, _, _ := e.lock(t, c.teacher, p, "exclusive", "infinity", ""); code != 403 {
			t.Errorf("LOCK %s: %d", p, code)
		}
	}
}

// TestSharedLocks across accounts: shared locks coexist, exclude
// exclusive ones, and each holder writes with her own token.
func TestSharedLocks(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	p := "/dav/groups/8b/aufgabe.txt"
	code1, tok1, _ := e.lock(t, c.s1, p, "shared", "0", "")
	code2, tok2, _ := e.lock(t, c.s2, p, "shared", "0", "")
	if code1 != 200 || code2 != 200 || tok1 == tok2 {
		t.Fatalf("shared locks: %d %d", code1, code2)
	}
	if code, _, body := e.lock(t, c.s3, p, "exclusive", "0", ""); code != 423 || !contains(body, "no-conflicting-lock") {
		t.Errorf("exclusive over shared: %d %s", code, body)
	}
	if r, body := e.do(t, c.s3, "PUT", p, strings.NewReader("x")); r.StatusCode != 423 || !contains(body, "lock-token-submitted") {
		t.Errorf("PUT without a token: %d %s", r.StatusCode, body)
	}
	if r, _ := e.do(t, c.s3, "PUT", p, strings.NewReader("x"), "If", "(<"+tok1+">)"); r.StatusCode/100 == 2 {
		t.Errorf("PUT with another's shared token: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.s2, "PUT", p, strings.NewReader("zwei"), "If", "(<"+tok2+">)"); r.StatusCode != 204 {
		t.Errorf("PUT with own shared token: %d", r.StatusCode)
	}
	e.do(t, c.s1, "UNLOCK", p, nil, "Lock-Token", "<"+tok1+">")
	e.do(t, c.s2, "UNLOCK", p, nil, "Lock-Token", "<"+tok2+">")
	if code, _, _ := e.lock(t, c.s3, p, "exclusive", "0", ""); code != 200 {
		t.Errorf("exclusive after the shared locks went: %d", code)
	}
}

// TestLocksProtectWhatAWriteChanges: a lock on a file inside a folder
// blocks DELETE and MOVE of the folder; a depth-0 lock on a folder blocks
// adding and removing members (RFC 4918 7.4), not changing them.
func TestLocksProtectWhatAWriteChanges(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/abgabe/a.txt", strings.NewReader("a")); r.StatusCode != 201 {
		t.Fatal(r.StatusCode)
	}
	_, tok, _ := e.lock(t, c.s1, "/dav/groups/8b/abgabe/a.txt", "exclusive", "0", "")
	if r, _ := e.do(t, c.s2, "DELETE", "/dav/groups/8b/abgabe/", nil); r.StatusCode != 423 {
		t.Errorf("DELETE of a folder with a locked member: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.s2, "MOVE", "/dav/groups/8b/abgabe/", nil, "Destination", e.srv.URL+"/dav/home/weg/"); r.StatusCode != 423 {
		t.Errorf("MOVE of a folder with a locked member: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.s2, "COPY", "/dav/groups/8b/aufgabe.txt", nil, "Destination", e.srv.URL+"/dav/groups/8b/abgabe/a.txt"); r.StatusCode != 423 {
		t.Errorf("COPY onto a locked file: %d", r.StatusCode)
	}
	e.do(t, c.teacher, "UNLOCK", "/dav/groups/8b/abgabe/a.txt", nil, "Lock-Token", "<"+tok+">")

	_, tok, _ = e.lock(t, c.teacher, "/dav/groups/8b/abgabe/", "exclusive", "0", "")
	if r, _ := e.do(t, c.s1, "PUT", "/dav/groups/8b/abgabe/neu.txt", strings.NewReader("n")); r.StatusCode != 423 {
		t.Errorf("new member of a depth-0 locked folder: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.s1, "DELETE", "/dav/groups/8b/abgabe/a.txt", nil); r.StatusCode != 423 {
		t.Errorf("removing a member of a depth-0 locked folder: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.s1, "PUT", "/dav/groups/8b/abgabe/a.txt", strings.NewReader("b")); r.StatusCode != 204 {
		t.Errorf("changing a member of a depth-0 locked folder: %d", r.StatusCode)
	}
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/abgabe/neu.txt", strings.NewReader("n"), "If", "(<"+tok+">)"); r.StatusCode != 201 {
		t.Errorf("holder adds a member: %d", r.StatusCode)
	}
}

// TestLocksSurviveRestart: locks are in the store; a new handler over the
// same store (a restart) keeps the live ones and drops the expired.
func TestLocksSurviveRestart(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	code, tok, _ := e.lock(t, c.s1, "/dav/groups/8b/aufgabe.txt", "exclusive", "0", "")
	if code != 200 {
		t.Fatal(code)
	}
	if code, _, _ := e.lock(t, c.s2, "/dav/home/kurz.txt", "shared", "0", "Second-60"); code != 201 {
		t.Fatal(code)
	}
	restart := func() {
		t.Helper()
		e.h = New(e.h.opt)
		e.srv = httptest.NewServer(e.h)
		t.Cleanup(e.srv.Close)
	}
	restart()
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("x")); r.StatusCode != 423 {
		t.Errorf("after restart, PUT without token: %d", r.StatusCode)
	}
	if _, body := e.do(t, c.s1, "PROPFIND", "/dav/groups/8b/aufgabe.txt", nil, "Depth", "0"); !contains(body, tok) || !contains(body, "oooooooooo") {
		t.Errorf("after restart, lockdiscovery: %s", body)
	}
	if r, _ := e.do(t, c.s1, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("mine"), "If", "(<"+tok+">)"); r.StatusCode != 204 {
		t.Errorf("after restart, PUT with token: %d", r.StatusCode)
	}
	e.advance(61 * time.Second)
	restart()
	e.h.locks.mu.Lock()
	n := len(e.h.locks.byToken)
	e.h.locks.mu.Unlock()
	if n != 1 {
		t.Errorf("after restart past one lock's expiry: %d locks", n)
	}
	saved, err := e.st.DavLocks(time.Time{})
	if err != nil || len(saved) != 1 {
		t.Errorf("store keeps %d locks (%v), want 1", len(saved), err)
	}
	if r, _ := e.do(t, c.s1, "UNLOCK", "/dav/groups/8b/aufgabe.txt", nil, "Lock-Token", "<"+tok+">"); r.StatusCode != 204 {
		t.Errorf("UNLOCK after restart: %d", r.StatusCode)
	}
	restart()
	if r, _ := e.do(t, c.teacher, "PUT", "/dav/groups/8b/aufgabe.txt", strings.NewReader("frei")); r.StatusCode != 204 {
		t.Errorf("unlocked lock came back after restart: %d", r.StatusCode)
	}
}

// TestLocksGoWithTheResource: DELETE and MOVE end the locks on what they
// remove, so no lock keeps a name reserved after its file is gone.
func TestLocksGoWithTheResource(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	for _, m := range []string{"DELETE", "MOVE"} {
		if r, _ := e.do(t, c.s1, "PUT", "/dav/groups/8b/meins.txt", strings.NewReader("x")); r.StatusCode/100 != 2 {
			t.Fatal(r.StatusCode)
		}
		_, tok, _ := e.lock(t, c.s1, "/dav/groups/8b/meins.txt", "exclusive", "0", "")
		r, _ := e.do(t, c.s1, m, "/dav/groups/8b/meins.txt", nil, "If", "(<"+tok+">)", "Destination", e.srv.URL+"/dav/home/meins.txt")
		if r.StatusCode/100 != 2 {
			t.Fatalf("%s: %d", m, r.StatusCode)
		}
		if r, _ := e.do(t, c.s2, "PUT", "/dav/groups/8b/meins.txt", strings.NewReader("frei")); r.StatusCode != 201 {
			t.Errorf("after %s, a classmate's PUT of the name: %d", m, r.StatusCode)
		}
		e.do(t, c.s2, "DELETE", "/dav/groups/8b/meins.txt", nil)
		e.do(t, c.s1, "DELETE", "/dav/home/meins.txt", nil)
	}
}

// TestLocksPerAccountConcurrent: LOCKs sent at once do not pass the bound
// together.
func TestLocksPerAccountConcurrent(t *testing.T) {
	e := newEnv(t)
	u := e.user(t, "Viele", "Sperren", policy.Student)
	if err := e.h.opt.Policy.SetBound(policy.LocksPerAccount, 3); err != nil {
		t.Fatal(err)
	}
	e.do(t, u, "PROPFIND", "/dav/home/", nil, "Depth", "0") // log in once
	codes := make(chan int, 12)
	for i := range 12 {
		go func() {
			code, _, _ := e.lock(t, u, fmt.Sprintf("/dav/home/p%d.txt", i), "exclusive", "0", "")
			codes <- code
		}()
	}
	granted := 0
	for range 12 {
		if c := <-codes; c == 201 {
			granted++
		} else if c != 403 {
			t.Errorf("LOCK answered %d", c)
		}
	}
	if granted != 3 {
		t.Errorf("%d locks granted, bound is 3", granted)
	}
}

// TestLockOwnerIsTheAccount: the <owner> a client sends is free text; to
// everyone but the holder lockdiscovery names the account that holds the
// lock, so a student cannot show a lock as the teacher's.
func TestLockOwnerIsTheAccount(t *testing.T) {
	c := newClassroom(t)
	e := c.e
	body := `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>` +
		`<D:owner><D:href>Frau Lehrer</D:href></D:owner></D:lockinfo>`
	if r, _ := e.do(t, c.s1, "LOCK", "/dav/groups/8b/aufgabe.txt", strings.NewReader(body)); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	for _, who := range []string{c.s2, c.teacher} {
		_, got := e.do(t, who, "PROPFIND", "/dav/groups/8b/aufgabe.txt", nil, "Depth", "0")
		if contains(got, "Frau Lehrer") || !contains(got, "<D:owner><D:href>"+c.s1+"</D:href></D:owner>") {
			t.Errorf("%s sees owner: %s", who, got)
		}
	}
	if _, got := e.do(t, c.s1, "PROPFIND", "/dav/groups/8b/aufgabe.txt", nil, "Depth", "0"); !contains(got, "Frau Lehrer") {
		t.Errorf("the holder does not get her owner back: %s", got)
	}
}
