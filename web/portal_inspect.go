package web

import (
	"errors"
	"net/http"
	"strconv"

	"schulhof/internal/admin"
	"schulhof/policy"
	"schulhof/store"
)

// Inspection pages for auditors (AUDIT-INSPECT): the list of requests with
// a form for a new one, approval by a second auditor, and the read-only
// view. The logic and every audit record are internal/admin's; the
// session is the auditor's proof of who acts.

func (p *portal) mountInspect(mux *http.ServeMux) {
	mux.Handle("GET /einsicht", p.page(pageOpts{auditor: true}, p.inspectList))
	mux.Handle("POST /einsicht", p.page(pageOpts{auditor: true}, p.inspectRequest))
	mux.Handle("POST /einsicht/{id}/genehmigen", p.page(pageOpts{auditor: true}, p.inspectApprove))
	mux.Handle("GET /einsicht/{id}", p.page(pageOpts{auditor: true}, p.inspectShow))
	mux.Handle("POST /einsicht/{id}/schliessen", p.page(pageOpts{auditor: true}, p.inspectClose))
}

func (p *portal) inspectClose(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := pathID(r, "id")
	if !ok {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	if _, err := p.opt.Inspect.CloseInspection(p.inspectCreds(s), id, r.PostForm.Get("note")); err != nil {
		p.inspectFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/einsicht", http.StatusSeeOther)
}

func (p *portal) inspectCreds(s *session) admin.Creds {
	return admin.Creds{Account: s.account, Via: "web"}
}

type inspectListData struct {
	List   []store.Inspection
	Me     string
	Scopes []policy.InspectScope
}

func (p *portal) inspectList(w http.ResponseWriter, r *http.Request, s *session) {
	p.renderInspectList(w, r, s, http.StatusOK, "", "")
}

func (p *portal) renderInspectList(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg, notice string) {
	list, err := p.opt.Inspect.Inspections(p.inspectCreds(s))
	if err != nil {
		p.inspectFail(w, r, s, err)
		return
	}
	v := p.view(s, p.t(s)["insp_title"], inspectListData{List: list, Me: s.account.Name, Scopes: policy.InspectScopes})
	v.Active, v.Error, v.Notice = "inspect", errMsg, notice
	p.render(w, status, "inspect", v)
}

// inspectFail shows a refusal with its rule, or an internal error.
func (p *portal) inspectFail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var re *policy.RefusalError
	switch {
	case errors.As(err, &re):
		p.deny(w, r, s, re.Decision)
	case errors.Is(err, store.ErrNotFound):
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
	default:
		p.log.Error("portal: inspection", "err", err)
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
	}
}

func (p *portal) inspectRequest(w http.ResponseWriter, r *http.Request, s *session) {
	f := r.PostForm
	in, err := p.opt.Inspect.RequestInspection(p.inspectCreds(s), f.Get("person"), f.Get("scope"), f.Get("reason"), f.Get("case"))
	var re *policy.RefusalError
	if errors.As(err, &re) {
		p.renderInspectList(w, r, s, http.StatusForbidden, p.refused(p.lang(s), re.Decision), "")
		return
	} else if err != nil {
		p.inspectFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/einsicht#antrag-"+strconv.FormatUint(in.ID, 10), http.StatusSeeOther)
}

func (p *portal) inspectApprove(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := pathID(r, "id")
	if !ok {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	if _, err := p.opt.Inspect.ApproveInspection(p.inspectCreds(s), id); err != nil {
		p.inspectFail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/einsicht/"+r.PathValue("id"), http.StatusSeeOther)
}

func (p *portal) inspectShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := pathID(r, "id")
	if !ok {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	view, err := p.opt.Inspect.ShowInspection(p.inspectCreds(s), id)
	if err != nil {
		p.inspectFail(w, r, s, err)
		return
	}
	v := p.view(s, p.t(s)["insp_one"]+" "+r.PathValue("id"), view)
	v.Active = "inspect"
	// Content seen by an auditor is not cached by the browser.
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, http.StatusOK, "inspection", v)
}
