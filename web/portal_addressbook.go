package web

import (
	"net/http"
	"strings"

	"schulhof/internal/addressbook"
	"schulhof/policy"
	"schulhof/store"
)

// entry is one line of the shared address book (Nutzungsordnung:
// "gemeinsames Adressbuch"): name, address, groups, nickname.
type entry struct {
	Account, Name, Address, Nickname, Color, Role string
	Groups                                        []string
}

type addressData struct {
	Query   string
	Entries []entry
	More    int
	CanChat bool
}

// addressBookMax is how many lines one page shows; a search narrows it.
const addressBookMax = 200

func (p *portal) entries(q string) ([]entry, int, error) {
	all, err := addressbook.All(p.st, p.opt.Domain) // the same lines as CardDAV's
	if err != nil {
		return nil, 0, err
	}
	q = strings.ToLower(strings.TrimSpace(q))
	var out []entry
	more := 0
	for _, a := range all {
		e := entry{Account: a.Account, Name: a.Name, Address: a.Address,
			Nickname: a.Nickname, Color: a.Color, Role: a.Role, Groups: a.Groups}
		if q != "" && !strings.Contains(strings.ToLower(e.Name+" "+e.Address+" "+e.Nickname+" "+strings.Join(e.Groups, " ")), q) {
			continue
		}
		if len(out) == addressBookMax {
			more++
			continue
		}
		out = append(out, e)
	}
	return out, more, nil
}

func (p *portal) addressBook(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query().Get("q")
	if len(q) > 100 {
		q = q[:100]
	}
	list, more, err := p.entries(q)
	if err != nil {
		p.fail(w, r, s, http.StatusInternalServerError, p.t(s)["err_internal"])
		return
	}
	v := p.view(s, p.t(s)["ab_title"], addressData{Query: q, Entries: list, More: more,
		CanChat: p.chatOpen(s.account)})
	v.Active = "addressbook"
	if r.URL.Query().Get("teil") == "1" { // search as you type: the rows only
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		p.tpl["addressbook"].ExecuteTemplate(w, "rows", v)
		return
	}
	p.render(w, http.StatusOK, "addressbook", v)
}

type groupData struct {
	Group    *store.Group
	Members  []entry
	Teachers []entry
}

func (p *portal) groupPage(w http.ResponseWriter, r *http.Request, s *session) {
	g, err := p.st.Group(r.PathValue("name"))
	if err != nil {
		p.fail(w, r, s, http.StatusNotFound, p.t(s)["err_notfound"])
		return
	}
	conv := func(names []string) []entry {
		var out []entry
		for _, n := range names {
			e := entry{Account: n, Name: n, Address: n + "@" + p.opt.Domain}
			if a, err := p.st.Account(n); err == nil {
				e.Name, e.Nickname, e.Color = a.First+" "+a.Last, a.Nickname, a.Color
			}
			out = append(out, e)
		}
		return out
	}
	v := p.view(s, p.t(s)["grp_title"]+" "+g.Name, groupData{Group: g, Members: conv(g.Members), Teachers: conv(g.Teachers)})
	v.Active = "addressbook"
	p.render(w, http.StatusOK, "group", v)
}

type chatData struct {
	Texts string // JSON of the chat's texts, for chat.js
	DM    string
}

// chatKeys are the catalog entries chat.js uses.
var chatKeys = []string{"chat_pick", "chat_write", "chat_send", "chat_older", "chat_edited", "chat_deleted",
	"chat_edit", "chat_delete", "chat_report", "chat_report_reason", "chat_reported", "chat_results",
	"chat_connecting", "chat_offline", "chat_ended", "chat_new", "chat_frame", "chat_confirm_delete", "chat_direct", "chat_rooms"}

func (p *portal) chatPage(w http.ResponseWriter, r *http.Request, s *session) {
	t := p.t(s)
	if !s.account.ConsentComms {
		p.deny(w, r, s, policy.CheckLogin(policy.LoginFacts{ConsentPlatform: true}, policy.ServiceChat, policy.PurposeUse))
		return
	}
	sub := map[string]string{}
	for _, k := range chatKeys {
		sub[k] = t[k]
	}
	v := p.view(s, t["chat_title"], chatData{Texts: jsonString(sub), DM: r.URL.Query().Get("dm")})
	v.Active = "chat"
	p.render(w, http.StatusOK, "chat", v)
}
