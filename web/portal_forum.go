package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"schulhof/chatd"
	"schulhof/forumd"
	"schulhof/policy"
	"schulhof/store"
)

// The forum's pages. Every decision is forumd's (and so the store
// transaction's); these handlers only read the form, render, and turn a
// refusal into its rule's text. Every POST goes through page(), which
// checks the CSRF token and the origin.

func (p *portal) mountForum(mux *http.ServeMux) {
	o := pageOpts{module: policy.ModuleForum}
	mux.Handle("GET /forum", p.page(o, p.forumList))
	mux.Handle("GET /forum/suche", p.page(o, p.forumSearch))
	mux.Handle("GET /forum/meldungen", p.page(o, p.forumReports))
	mux.Handle("GET /forum/meldungen/{rid}", p.page(o, p.forumReport))
	mux.Handle("POST /forum/meldungen/{rid}/{act}", p.page(o, p.forumReportAct))
	mux.Handle("GET /forum/{id}", p.page(o, p.forumThreads))
	mux.Handle("POST /forum/{id}/neu", p.page(o, p.forumNewThread))
	mux.Handle("GET /forum/{id}/thema/{tid}", p.page(o, p.forumThread))
	mux.Handle("GET /forum/{id}/thema/{tid}/json", p.page(o, p.forumThreadJSON))
	mux.Handle("POST /forum/{id}/thema/{tid}/antwort", p.page(o, p.forumReply))
	mux.Handle("POST /forum/{id}/moderieren", p.page(o, p.forumModerate))
	mux.Handle("POST /forum/{id}/melden", p.page(o, p.forumReportPost))
}

// forumErr answers a forumd error: a refusal with its rule, a wrong or
// unknown ID as not found. JSON if the client asked for it.
func (p *portal) forumErr(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status, msg, rule := http.StatusInternalServerError, p.t(s)["err_internal"], ""
	if d, ok := forumd.Refusal(err); ok {
		status, msg, rule = http.StatusForbidden, p.refused(p.lang(s), d), string(d.Rule)
		if d.Rule == policy.LimitMessage || d.Rule == policy.LinkBlock || d.Rule == policy.ForumLocked || d.Rule == policy.LimitFlood {
			status = http.StatusUnprocessableEntity
		}
		if d.Rule == policy.LimitFlood {
			status = http.StatusTooManyRequests
		}
	} else if errors.Is(err, store.ErrNotFound) {
		status, msg = http.StatusNotFound, p.t(s)["err_notfound"]
	} else {
		p.log.Error("forum", "err", err)
	}
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": msg, "rule": rule})
		return
	}
	p.fail(w, r, s, status, msg)
}

// writeJSON is the forum's answer to scripts and apps.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") || strings.HasSuffix(r.URL.Path, "/json")
}

// names turns account names into display names, "" into the erased
// person's placeholder.
type names struct {
	p *portal
	m map[string]string
}

func (n *names) Of(acct string) string {
	if acct == "" {
		return n.p.t(nil)["forum_erased"]
	}
	if v, ok := n.m[acct]; ok {
		return v
	}
	v := acct
	if a, err := n.p.st.Account(acct); err == nil {
		v = chatd.DisplayName(a)
	}
	n.m[acct] = v
	return v
}

func (p *portal) names() *names { return &names{p: p, m: map[string]string{}} }

func pageParam(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("seite"))
	return n
}

type forumListData struct {
	Forums  []forumd.ForumInfo
	Reports int
}

func (p *portal) forumList(w http.ResponseWriter, r *http.Request, s *session) {
	list, err := p.forum.Forums(s.account)
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	d := forumListData{Forums: list}
	if rep, err := p.forum.Reports(s.account, false); err == nil {
		d.Reports = len(rep)
	}
	v := p.view(s, p.t(s)["forum_title"], d)
	v.Active = "forum"
	p.render(w, http.StatusOK, "forums", v)
}

// pager is the pager line of a forum or thread page: the previous and the
// next page, 0 for none.
type pager struct{ Page, Pages int }

func (g pager) Prev() int { return g.Page - 1 }
func (g pager) Next() int {
	if g.Page < g.Pages {
		return g.Page + 1
	}
	return 0
}

type threadsData struct {
	Forum   forumd.ForumInfo
	Threads []forumd.ThreadRow
	pager
	Names *names
}

func (p *portal) forumThreads(w http.ResponseWriter, r *http.Request, s *session) {
	fi, rows, pages, err := p.forum.Threads(s.account, r.PathValue("id"), pageParam(r))
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	page := min(max(pageParam(r), 1), pages)
	v := p.view(s, fi.Forum.Title, threadsData{Forum: *fi, Threads: rows, pager: pager{page, pages}, Names: p.names()})
	v.Active = "forum"
	p.render(w, http.StatusOK, "forum", v)
}

func (p *portal) forumNewThread(w http.ResponseWriter, r *http.Request, s *session) {
	forum := r.PathValue("id")
	th, err := p.forum.NewThread(s.account, forum, r.PostForm.Get("title"), r.PostForm.Get("text"))
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/forum/%s/thema/%d", forum, th.ID), http.StatusSeeOther)
}

type threadData struct {
	*forumd.ThreadPage
	Names  *names
	Quote  *store.ForumPost // the post the reply form quotes
	MyName string
}

// Prev and Next: the thread's page numbers come with forumd's ThreadPage.
func (d threadData) Prev() int { return pager{d.Page, d.Pages}.Prev() }
func (d threadData) Next() int { return pager{d.Page, d.Pages}.Next() }

// New reports a post that came after the reader's last visit.
func (d threadData) New(pp store.ForumPost) bool { return pp.ID > d.ReadUpTo && pp.Author != d.MyName }

// threadPage reads the page of the thread the request names, for the page
// and its JSON twin alike; false: the error is answered.
func (p *portal) threadPage(w http.ResponseWriter, r *http.Request, s *session) (*forumd.ThreadPage, uint64, bool) {
	tid, ok := pathID(r, "tid")
	if !ok {
		p.forumErr(w, r, s, store.ErrNotFound)
		return nil, 0, false
	}
	tp, err := p.forum.Thread(s.account, r.PathValue("id"), tid, pageParam(r))
	if err != nil {
		p.forumErr(w, r, s, err)
		return nil, 0, false
	}
	return tp, tid, true
}

func (p *portal) forumThread(w http.ResponseWriter, r *http.Request, s *session) {
	tp, tid, ok := p.threadPage(w, r, s)
	if !ok {
		return
	}
	d := threadData{ThreadPage: tp, Names: p.names(), MyName: s.account.Name}
	if q, err := strconv.ParseUint(r.URL.Query().Get("zitat"), 10, 64); err == nil {
		if qp, err := p.st.ForumPost(q); err == nil && qp.Thread == tid && !qp.Deleted && (!qp.Hidden || tp.Forum.Moderator) {
			d.Quote = qp
		}
	}
	title := tp.Thread.Title
	if title == "" {
		title = p.t(s)["forum_erased_title"]
	}
	v := p.view(s, title, d)
	v.Active = "forum"
	if r.URL.Query().Get("ok") == "report" {
		v.Notice = p.t(s)["forum_reported"]
	}
	p.render(w, http.StatusOK, "thread", v)
}

// forumThreadJSON is one page of a thread as JSON (for scripts and apps),
// with the same checks as the page.
func (p *portal) forumThreadJSON(w http.ResponseWriter, r *http.Request, s *session) {
	tp, _, ok := p.threadPage(w, r, s)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"thread": tp.Thread, "posts": tp.Posts, "page": tp.Page, "pages": tp.Pages})
}

func (p *portal) forumReply(w http.ResponseWriter, r *http.Request, s *session) {
	forum := r.PathValue("id")
	tid, ok := pathID(r, "tid")
	if !ok {
		p.forumErr(w, r, s, store.ErrNotFound)
		return
	}
	quote, _ := strconv.ParseUint(r.PostForm.Get("quote"), 10, 64)
	post, err := p.forum.Reply(s.account, forum, tid, r.PostForm.Get("text"), quote)
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/forum/%s/thema/%d?seite=-1#p%d", forum, tid, post.ID), http.StatusSeeOther)
}

func (p *portal) forumModerate(w http.ResponseWriter, r *http.Request, s *session) {
	forum := r.PathValue("id")
	id, err := strconv.ParseUint(r.PostForm.Get("id"), 10, 64)
	if err != nil {
		p.forumErr(w, r, s, store.ErrNotFound)
		return
	}
	act := policy.ForumAct(r.PostForm.Get("act"))
	done, err := p.forum.Moderate(s.account, forum, act, id, r.PostForm.Get("reason"))
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "told": done.Author != ""})
		return
	}
	tid := id
	if done.Post != nil {
		tid = done.Post.Thread
	}
	http.Redirect(w, r, fmt.Sprintf("/forum/%s/thema/%d", forum, tid), http.StatusSeeOther)
}

func (p *portal) forumReportPost(w http.ResponseWriter, r *http.Request, s *session) {
	forum := r.PathValue("id")
	post, err := strconv.ParseUint(r.PostForm.Get("post"), 10, 64)
	if err != nil {
		p.forumErr(w, r, s, store.ErrNotFound)
		return
	}
	if _, err := p.forum.Report(s.account, forum, post, r.PostForm.Get("reason")); err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	fp, err := p.st.ForumPost(post)
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/forum/%s/thema/%d?ok=report#p%d", forum, fp.Thread, post), http.StatusSeeOther)
}

type searchData struct {
	Q     string
	Hits  []store.ForumHit
	Names *names
}

func (p *portal) forumSearch(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query().Get("q")
	hits, err := p.forum.Search(s.account, q)
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	v := p.view(s, p.t(s)["forum_search"], searchData{Q: q, Hits: hits, Names: p.names()})
	v.Active = "forum"
	p.render(w, http.StatusOK, "forumsearch", v)
}

func (p *portal) forumReports(w http.ResponseWriter, r *http.Request, s *session) {
	list, err := p.forum.Reports(s.account, true)
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	v := p.view(s, p.t(s)["forum_reports"], list)
	v.Active = "forum"
	p.render(w, http.StatusOK, "forumreports", v)
}

func (p *portal) forumReport(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := pathID(r, "rid")
	if !ok {
		p.forumErr(w, r, s, store.ErrNotFound)
		return
	}
	rep, err := p.forum.ReadReport(s.account, id)
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	n := p.names()
	names := map[string]string{}
	for _, m := range rep.Context {
		names[m.Author] = n.Of(m.Author)
	}
	v := p.view(s, p.t(s)["rep_one"]+" "+r.PathValue("rid"), reportData{Report: rep, Names: names, Room: rep.Forum})
	v.Active = "forum"
	p.render(w, http.StatusOK, "forumreport", v)
}

func (p *portal) forumReportAct(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := pathID(r, "rid")
	if !ok {
		p.forumErr(w, r, s, store.ErrNotFound)
		return
	}
	note := r.PostForm.Get("note")
	if len(note) > 1000 {
		note = note[:1000]
	}
	var err error
	switch r.PathValue("act") {
	case "schliessen":
		err = p.forum.CloseReport(s.account, id, note)
	case "weitergeben":
		err = p.forum.EscalateReport(s.account, id, note)
	default:
		err = store.ErrNotFound
	}
	if err != nil {
		p.forumErr(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/forum/meldungen", http.StatusSeeOther)
}
