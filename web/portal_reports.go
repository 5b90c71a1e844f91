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
	Room   string
}

// roomLabel names a room for the admin: the group, or the two people.
func (p *portal) roomLabel(room string, names map[string]string) string {
	kind, parts, ok := store.ParseRoomID(room)
	if !ok {
		return room
	}
	if kind == "group" {
		return parts[0]
	}
	for i, n := range parts {
		if a, err := p.st.Account(n); err == nil {
			parts[i] = a.First + " " + a.Last
		}
	}
	return parts[0] + " – " + parts[1]
}

func (p *portal) reportShow(w http.ResponseWriter, r *http.Request, s *session) {
	id, ok := pathID(r, "id")
	if !ok {
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
	v := p.view(s, p.t(s)["rep_one"]+" "+r.PathValue("id"), reportData{Report: rep, Names: names, Room: p.roomLabel(rep.Room, names)})
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
