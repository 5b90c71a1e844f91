package web

// Hausaufgaben: a teacher sets a task for a group she teaches (text,
// attachments from her home folder, due date, confirmed announced in class:
// HOMEWORK-ANNOUNCED, HOMEWORK-PERIOD); pupils see their tasks (open, due
// soon, late), hand in files (SIZE-20MB, their quota), see feedback;
// teachers see who handed in and give feedback. Who sees a hand-in is
// store.HandinVisible, the same rule davd serves the files by.

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"schulhof/internal/links"
	"schulhof/internal/usercontent"
	"schulhof/policy"
	"schulhof/store"
)

// dueSoon: a task due within this time and not handed in is "bald fällig".
const dueSoon = 48 * time.Hour

// attachChoices bounds the files offered as attachments from a home folder.
const attachChoices = 300

func (p *portal) mountHomework(mux *http.ServeMux) {
	o := pageOpts{module: policy.ModuleHomework}
	mux.Handle("GET /hausaufgaben", p.page(o, p.homeworkList))
	mux.Handle("GET /hausaufgaben/neu", p.page(o, p.homeworkForm))
	mux.Handle("POST /hausaufgaben/neu", p.page(o, p.homeworkCreate))
	mux.Handle("GET /hausaufgaben/{id}", p.page(o, p.homeworkTask))
	mux.Handle("GET /hausaufgaben/{id}/anhang/{n}", p.page(o, p.homeworkAttachment))
	mux.Handle("GET /hausaufgaben/{id}/abgabe/{pupil}/{n}", p.page(o, p.homeworkHandinFile))
	mux.Handle("POST /hausaufgaben/{id}/rueckmeldung", p.page(o, p.homeworkFeedback))
	mux.Handle("POST /hausaufgaben/{id}/abgeben", p.page(pageOpts{module: policy.ModuleHomework, upload: true}, p.homeworkHandIn))
}

func (p *portal) minDays() int {
	if p.opt.HomeworkMinDays != nil {
		return *p.opt.HomeworkMinDays
	}
	return policy.DefaultHomeworkMinDays
}

// taskRow is one task in a list, with the viewer's state of it.
type taskRow struct {
	Task    store.Task
	State   string // open, soon, late, done, donelate; teachers: count
	Teacher bool
	Handed  int // teachers: how many pupils handed in
	Pupils  int
}

type homeworkListData struct {
	Tasks    []taskRow
	CanSet   bool
	MinDays  int
	Teaching []string
}

func (p *portal) teaching(a *store.Account) (teach, all []store.Group, err error) {
	gs, err := p.st.GroupsOf(a.Name)
	for _, g := range gs {
		if g.IsTeacher(a.Name) {
			teach = append(teach, g)
		}
	}
	return teach, gs, err
}

// pupilState is what a pupil's list shows for one task.
func pupilState(tk *store.Task, h *store.Handin, now time.Time) string {
	switch {
	case h != nil && len(h.Files) > 0 && h.Late():
		return "donelate"
	case h != nil && len(h.Files) > 0:
		return "done"
	case now.After(tk.Due):
		return "late"
	case tk.Due.Sub(now) <= dueSoon:
		return "soon"
	}
	return "open"
}

func (p *portal) homeworkList(w http.ResponseWriter, r *http.Request, s *session) {
	teach, gs, err := p.teaching(s.account)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	names := make([]string, len(gs))
	for i := range gs {
		names[i] = gs[i].Name
	}
	tasks, err := p.st.TasksOf(names)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	d := homeworkListData{CanSet: len(teach) > 0, MinDays: p.minDays()}
	pupils := map[string]int{} // of each group the account teaches, counted once, not per task
	for i := range teach {
		g := &teach[i]
		d.Teaching = append(d.Teaching, g.Name)
		pupils[g.Name] = 0
		for _, m := range g.Members {
			if store.IsPupil(g, m) {
				pupils[g.Name]++
			}
		}
	}
	now := p.now()
	for _, tk := range tasks {
		row := taskRow{Task: tk}
		if n, teacher := pupils[tk.Group]; teacher {
			row.Teacher, row.State, row.Pupils = true, "teacher", n
			hs, _ := p.st.Handins(tk.ID)
			for _, h := range hs {
				if len(h.Files) > 0 {
					row.Handed++
				}
			}
		} else {
			h, _ := p.st.Handin(tk.ID, s.account.Name)
			row.State = pupilState(&tk, h, now)
		}
		d.Tasks = append(d.Tasks, row)
	}
	v := p.view(s, p.t(s)["hw_title"], d)
	v.Active = "homework"
	p.render(w, http.StatusOK, "homework", v)
}

type homeworkFormData struct {
	Groups  []string
	Files   []string // paths in the teacher's home folder
	MinDays int
	// the values sent, when the form comes back with a refusal
	Group, Title, Text, Due string
	Announced               bool
	Attach                  map[string]bool
}

// homeFiles lists the files of a home folder, breadth first, bounded.
func (p *portal) homeFiles(account string) []string {
	var out []string
	queue := []string{"/"}
	for len(queue) > 0 && len(out) < attachChoices {
		dir := queue[0]
		queue = queue[1:]
		es, err := p.st.FileList(store.HomeTree(account), dir)
		if err != nil {
			continue
		}
		for _, e := range es {
			pth := path.Join(dir, e.Name)
			if e.Dir {
				queue = append(queue, pth)
			} else if len(out) < attachChoices {
				out = append(out, pth)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (p *portal) homeworkForm(w http.ResponseWriter, r *http.Request, s *session) {
	teach, _, err := p.teaching(s.account)
	if err != nil || len(teach) == 0 {
		p.roleRequired(w, r, s, "hw_teachers_only")
		return
	}
	d := homeworkFormData{MinDays: p.minDays(), Files: p.homeFiles(s.account.Name), Group: r.URL.Query().Get("gruppe")}
	for _, g := range teach {
		d.Groups = append(d.Groups, g.Name)
	}
	p.renderTaskForm(w, s, http.StatusOK, d, "")
}

func (p *portal) renderTaskForm(w http.ResponseWriter, s *session, status int, d homeworkFormData, msg string) {
	v := p.view(s, p.t(s)["hw_new"], d)
	v.Active, v.Error = "homework", msg
	p.render(w, status, "homework_new", v)
}

// textBound refuses a text over its bound (LIMIT-MESSAGE), empty when
// required, or with a link to a blocked site (LINK-BLOCK, as in chat).
func (p *portal) textBound(k policy.BoundKey, text string, required bool) policy.Decision {
	if required && strings.TrimSpace(text) == "" {
		return policy.Deny(p.pol.CheckBound(k, p.pol.Bound(k)+1).Rule, "Das Feld darf nicht leer sein.")
	}
	if !utf8.ValidString(text) {
		return policy.Deny(p.pol.CheckBound(k, p.pol.Bound(k)+1).Rule, "Ungültiger Text.")
	}
	if d := p.pol.CheckBound(k, int64(len(text))); !d.Allow {
		return d
	}
	return links.CheckText(text, p.st.Blocklist)
}

func (p *portal) homeworkCreate(w http.ResponseWriter, r *http.Request, s *session) {
	teach, _, err := p.teaching(s.account)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	f := r.PostForm
	d := homeworkFormData{MinDays: p.minDays(), Files: p.homeFiles(s.account.Name), Group: f.Get("group"),
		Title: f.Get("title"), Text: oneNewline(f.Get("text")), Due: f.Get("due"), Announced: f.Get("announced") == "1",
		Attach: map[string]bool{}}
	for _, g := range teach {
		d.Groups = append(d.Groups, g.Name)
	}
	attach := f["attach"]
	for _, a := range attach {
		d.Attach[a] = true
	}
	refuse := func(dec policy.Decision) {
		p.renderTaskForm(w, s, http.StatusForbidden, d, p.refused(p.lang(s), dec))
	}
	var group *store.Group
	for i := range teach {
		if teach[i].Name == d.Group {
			group = &teach[i]
		}
	}
	if group == nil {
		refuse(policy.Deny(policy.RoleRequired, "Aufgaben stellen nur Lehrkräfte der Gruppe."))
		return
	}
	for _, c := range []struct {
		k        policy.BoundKey
		v        string
		required bool
	}{{policy.HomeworkTitleBytes, d.Title, true}, {policy.HomeworkTextBytes, d.Text, false}} {
		if dec := p.textBound(c.k, c.v, c.required); !dec.Allow {
			refuse(dec)
			return
		}
	}
	if dec := p.pol.CheckBound(policy.HomeworkAttachments, int64(len(attach))); !dec.Allow {
		refuse(dec)
		return
	}
	due, err := time.ParseInLocation("2006-01-02T15:04", d.Due, time.Local)
	if err != nil {
		refuse(policy.Deny(policy.HomeworkPeriod, "Bitte einen Abgabetermin angeben."))
		return
	}
	now := p.now()
	if dec := policy.CheckHomework(now.In(time.Local), due, p.minDays(), d.Announced); !dec.Allow {
		refuse(dec)
		return
	}
	tk, err := p.st.CreateTask(store.Task{Group: group.Name, Title: d.Title, Text: d.Text, Creator: s.account.Name,
		Created: now.UTC(), Due: due.UTC(), Announced: true}, attach)
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrIsDir) || errors.Is(err, store.ErrBadPath) {
		p.renderTaskForm(w, s, http.StatusBadRequest, d, p.t(s)["hw_attach_gone"])
		return
	}
	if err != nil {
		p.log.Error("homework: create", "err", err)
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	http.Redirect(w, r, "/hausaufgaben/"+strconv.FormatUint(tk.ID, 10), http.StatusSeeOther)
}

// pupilRow is one pupil in the teacher's view of a task.
type pupilRow struct {
	Account, Name string
	Handin        *store.Handin
}

type homeworkTaskData struct {
	Task    *store.Task
	Teacher bool
	State   string
	Mine    *store.Handin // the pupil's own
	Pupils  []pupilRow    // teachers: every pupil of the group
	Handed  int
	MaxSize string
	Creator string
	DAV     string // the task's hand-in folder over WebDAV
}

// taskFor reads the task of the request and the group, if the account is
// in it; anyone else gets "not found", as if there were no such task.
func (p *portal) taskFor(r *http.Request, s *session) (*store.Task, *store.Group, bool) {
	id, ok := pathID(r, "id")
	if !ok {
		return nil, nil, false
	}
	tk, err := p.st.Task(id)
	if err != nil {
		return nil, nil, false
	}
	g, err := p.st.Group(tk.Group)
	if err != nil || !g.HasMember(s.account.Name) {
		return nil, nil, false
	}
	return tk, g, true
}

func (p *portal) homeworkTask(w http.ResponseWriter, r *http.Request, s *session) {
	tk, g, ok := p.taskFor(r, s)
	if !ok {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	notice := ""
	if r.URL.Query().Get("abgegeben") == "1" {
		notice = p.t(s)["hw_handed_in"]
	}
	p.showTask(w, r, s, tk, g, http.StatusOK, "", notice)
}

func (p *portal) showTask(w http.ResponseWriter, r *http.Request, s *session, tk *store.Task, g *store.Group, status int, msg, notice string) {
	d := homeworkTaskData{Task: tk, Teacher: g.IsTeacher(s.account.Name), Creator: tk.Creator,
		MaxSize: policy.FormatBytes(p.transferLimit(s.account)),
		DAV:     "https://" + r.Host + "/dav/abgaben/" + tk.Group + "/" + strconv.FormatUint(tk.ID, 10) + "/"}
	if a, err := p.st.Account(tk.Creator); err == nil {
		d.Creator = a.First + " " + a.Last
	}
	if d.Teacher {
		hs, _ := p.st.Handins(tk.ID)
		by := map[string]*store.Handin{}
		for i := range hs {
			by[hs[i].Pupil] = &hs[i]
		}
		for _, m := range g.Members {
			if !store.IsPupil(g, m) {
				continue
			}
			row := pupilRow{Account: m, Name: m, Handin: by[m]}
			if a, err := p.st.Account(m); err == nil {
				row.Name = a.First + " " + a.Last
			}
			if row.Handin != nil && len(row.Handin.Files) > 0 {
				d.Handed++
			}
			d.Pupils = append(d.Pupils, row)
		}
	} else {
		d.Mine, _ = p.st.Handin(tk.ID, s.account.Name)
		d.State = pupilState(tk, d.Mine, p.now())
	}
	v := p.view(s, tk.Title, d)
	v.Active, v.Error, v.Notice = "homework", msg, notice
	p.render(w, status, "homework_task", v)
}

func (p *portal) transferLimit(a *store.Account) int64 {
	xs, _ := p.st.Exceptions(a.Name)
	out := make([]policy.SizeException, len(xs))
	for i, x := range xs {
		out[i] = policy.SizeException{Bytes: x.Bytes, Until: x.Until}
	}
	return p.pol.TransferLimit(out, p.now())
}

// serveHomeworkFile sends one attachment or handed-in file as a download
// (SIZE-20MB applies to downloads too).
func (p *portal) serveHomeworkFile(w http.ResponseWriter, r *http.Request, s *session, f store.HomeworkFile) {
	if f.Size > p.transferLimit(s.account) {
		dec := p.pol.CheckTransfer(f.Size, nil, p.now())
		p.deny(w, r, s, dec)
		return
	}
	c, err := p.st.OpenHomeworkContent(f.Hash)
	if err != nil {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	defer c.Close()
	usercontent.SetHeaders(w.Header(), f.Name)
	http.ServeContent(w, r, f.Name, f.Added, c)
}

func fileIndex(r *http.Request, files []store.HomeworkFile) (store.HomeworkFile, bool) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(files) {
		return store.HomeworkFile{}, false
	}
	return files[n], true
}

func (p *portal) homeworkAttachment(w http.ResponseWriter, r *http.Request, s *session) {
	tk, _, ok := p.taskFor(r, s)
	var f store.HomeworkFile
	if ok {
		f, ok = fileIndex(r, tk.Attachments)
	}
	if !ok {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	p.serveHomeworkFile(w, r, s, f)
}

func (p *portal) homeworkHandinFile(w http.ResponseWriter, r *http.Request, s *session) {
	tk, g, ok := p.taskFor(r, s)
	pupil := r.PathValue("pupil")
	var f store.HomeworkFile
	if ok && store.HandinVisible(g, s.account.Name, pupil) {
		h, err := p.st.Handin(tk.ID, pupil)
		ok = err == nil
		if ok {
			f, ok = fileIndex(r, h.Files)
		}
	} else {
		ok = false
	}
	if !ok {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	p.serveHomeworkFile(w, r, s, f)
}

func (p *portal) homeworkFeedback(w http.ResponseWriter, r *http.Request, s *session) {
	tk, g, ok := p.taskFor(r, s)
	if !ok {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	if !g.IsTeacher(s.account.Name) {
		p.roleRequired(w, r, s, "hw_teachers_only")
		return
	}
	pupil, text := r.PostForm.Get("pupil"), r.PostForm.Get("feedback")
	if dec := p.textBound(policy.HomeworkFeedbackBytes, text, true); !dec.Allow {
		p.showTask(w, r, s, tk, g, http.StatusForbidden, p.refused(p.lang(s), dec), "")
		return
	}
	err := p.st.SetFeedback(tk.ID, pupil, s.account.Name, text, p.now())
	if errors.Is(err, store.ErrNotPupil) {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	if err != nil {
		p.log.Error("homework: feedback", "err", err)
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	p.showTask(w, r, s, tk, g, http.StatusOK, "", p.t(s)["hw_feedback_saved"])
}

// uploadKey carries the multipart reader past the CSRF part (page).
type uploadKey struct{}

func (p *portal) homeworkHandIn(w http.ResponseWriter, r *http.Request, s *session) {
	tk, g, ok := p.taskFor(r, s)
	if !ok {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	if !store.IsPupil(g, s.account.Name) {
		p.roleRequired(w, r, s, "hw_pupils_only")
		return
	}
	mr := r.Context().Value(uploadKey{}).(*multipart.Reader)
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "file" || part.FileName() == "" {
		p.showTask(w, r, s, tk, g, http.StatusBadRequest, p.t(s)["hw_no_file"], "")
		return
	}
	defer part.Close()
	name := path.Base(strings.ReplaceAll(part.FileName(), "\\", "/"))
	if dec := p.pol.CheckBound(policy.FileNameBytes, int64(len(name))); !dec.Allow {
		p.showTask(w, r, s, tk, g, http.StatusForbidden, p.refused(p.lang(s), dec), "")
		return
	}
	limit := p.transferLimit(s.account)
	pb, err := p.st.WriteContent(part, limit)
	if errors.Is(err, store.ErrTooLarge) {
		dec := p.pol.CheckTransfer(limit+1, nil, p.now())
		p.showTask(w, r, s, tk, g, http.StatusRequestEntityTooLarge, p.refused(p.lang(s), dec), "")
		return
	}
	if err != nil {
		p.log.Error("homework: upload", "err", err)
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	defer pb.Release()
	lim := store.HandinLimits{Files: p.pol.Bound(policy.HandinFiles), Quota: p.quotas.ForRole(policy.Role(s.account.Role))}
	_, err = p.st.HandIn(tk.ID, s.account.Name, name, pb, p.now(), lim)
	var le *store.LimitError
	switch {
	case errors.Is(err, store.ErrQuota):
		used, _ := p.st.TreeUsage(store.HomeTree(s.account.Name))
		p.showTask(w, r, s, tk, g, http.StatusInsufficientStorage, p.refused(p.lang(s), policy.CheckQuota(used, pb.Size, lim.Quota)), "")
	case errors.As(err, &le):
		p.showTask(w, r, s, tk, g, http.StatusForbidden, p.refused(p.lang(s), p.pol.CheckBound(policy.HandinFiles, le.N)), "")
	case errors.Is(err, store.ErrBadPath):
		p.showTask(w, r, s, tk, g, http.StatusBadRequest, p.t(s)["hw_no_file"], "")
	case err != nil:
		p.log.Error("homework: hand in", "err", err)
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
	default:
		http.Redirect(w, r, "/hausaufgaben/"+strconv.FormatUint(tk.ID, 10)+"?abgegeben=1", http.StatusSeeOther)
	}
}

// checkUpload reads the first part of a multipart upload, which must be
// the CSRF token, and hands the rest to the handler through the context:
// the file is streamed into the store, never held in memory or parsed
// into temporary files by net/http.
func (p *portal) checkUpload(w http.ResponseWriter, r *http.Request, s *session) (*http.Request, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, p.transferLimit(s.account)+p.pol.Bound(policy.FormBodyBytes))
	mr, err := r.MultipartReader()
	if err != nil || !sameOrigin(r) {
		return r, false
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		return r, false
	}
	tok, _ := io.ReadAll(io.LimitReader(part, 256))
	if !csrfOK(s.ws.CSRF, string(tok)) {
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), uploadKey{}, mr)), true
}

// oneNewline turns a textarea's CRLF (what browsers send) into LF: the
// text also goes into iCalendar, whose text values cannot carry a CR.
func oneNewline(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}
