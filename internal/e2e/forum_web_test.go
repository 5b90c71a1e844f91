package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// forumWeb is a logged-in portal client for the forum's forms (the
// erasure proof writes forum posts with it).
type forumWeb struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newForumWeb(t *testing.T, base, user, pass string) *forumWeb {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := eraseHTTP()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f := &forumWeb{t: t, base: base, c: c}
	if resp := f.post("/anmelden", url.Values{"account": {user}, "password": {pass}}, "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %s", user, resp.Status)
	}
	return f
}

func (f *forumWeb) get(path string) (*http.Response, []byte) {
	f.t.Helper()
	resp, err := f.c.Get(f.base + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// post sends a form with the CSRF token of the page at from.
func (f *forumWeb) post(path string, form url.Values, from string) *http.Response {
	f.t.Helper()
	_, page := f.get(from)
	m := eraseCSRF.FindSubmatch(page)
	if m == nil {
		f.t.Fatalf("no csrf token on %s", from)
	}
	form.Set("csrf", string(m[1]))
	req, _ := http.NewRequest("POST", f.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.base)
	resp, err := f.c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var forumThreadLoc = regexp.MustCompile(`/thema/(\d+)`)

// thread opens a thread and returns its ID.
func (f *forumWeb) thread(forum, title, text string) uint64 {
	f.t.Helper()
	resp := f.post("/forum/"+forum+"/neu", url.Values{"title": {title}, "text": {text}}, "/forum")
	m := forumThreadLoc.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		f.t.Fatalf("new thread: %s", resp.Status)
	}
	id, _ := strconv.ParseUint(m[1], 10, 64)
	return id
}

// posts reads a thread's first page as JSON.
func (f *forumWeb) posts(forum string, thread uint64) []map[string]any {
	f.t.Helper()
	resp, body := f.get("/forum/" + forum + "/thema/" + strconv.FormatUint(thread, 10) + "/json")
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("thread %d: %s %s", thread, resp.Status, body)
	}
	var out struct {
		Posts []map[string]any `json:"posts"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		f.t.Fatal(err)
	}
	return out.Posts
}

func (f *forumWeb) mustSee(resp *http.Response, what string) {
	f.t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("%s: %s", what, resp.Status)
	}
}
