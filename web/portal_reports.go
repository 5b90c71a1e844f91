package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"schulhof/store"
)

// Reports: the admins' list (no chat content) and one report's frozen
// content, whose every read is audited by the store (CHAT-READ-REPORTED).
// There is no other page with chat content for anyone outside a room.

func (p *portal) reportList(w http.ResponseWriter, r *http.Request, s *session) {
	list, err := p.st.Reports(true)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	v := p.view(s, p.t(s)["rep_title"], list)
	v.Active = "reports"
	p.render(w, http.StatusOK, "reports", v)
}

type reportData struct {
	Report *store.ChatReport
	Names  map[string]string
}

func (p *portal) reportShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	rep, err := p.st.ReadReport(id, s.account.Name)
	if errors.Is(err, store.ErrNotFound) {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	} else if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	names := map[string]string{}
	for _, m := range rep.Context {
		if _, ok := names[m.Author]; !ok {
			names[m.Author] = m.Author
			if a, err := p.st.Account(m.Author); err == nil {
				names[m.Author] = a.First + " " + a.Last
			}
		}
	}
	v := p.view(s, p.t(s)["rep_title"]+" "+r.PathValue("id"), reportData{Report: rep, Names: names})
	v.Active = "reports"
	p.render(w, http.StatusOK, "report", v)
}

func (p *portal) reportClose(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err == nil {
		note := r.PostForm.Get("note")
		if len(note) > 1000 {
			note = note[:1000]
		}
		err = p.st.CloseReport(id, s.account.Name, note, p.now().UTC())
	}
	if err != nil {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	http.Redirect(w, r, "/meldungen", http.StatusSeeOther)
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
