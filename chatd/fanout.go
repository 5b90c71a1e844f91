package chatd

import (
	"encoding/json"

	"github.com/coder/websocket"

	"schulhof/policy"
	"schulhof/store"
)

// feedBuffer is how far the hub may lag behind the feed before it must
// resynchronise (every client reconnects and resumes).
var feedBuffer = 1 << 16

func feedFilter(e store.Event) bool {
	switch e.Kind {
	case store.ChatChanged, store.AccountChanged, store.AccountDeleted, store.SessionsEnded,
		store.GroupChanged, store.ReportCreated:
		return true
	}
	return false
}

// run reads the feed in commit order and fans out.
func (h *Hub) run() {
	defer close(h.done)
	for {
		h.mu.RLock()
		sub := h.sub
		h.mu.RUnlock()
		if sub == nil {
			return
		}
		h.drain(sub)
		if !sub.Overflowed() {
			return
		}
		h.log.Warn("chat: change feed overflowed; every client reconnects and resumes")
		h.mu.Lock()
		if h.sub == nil {
			h.mu.Unlock()
			return
		}
		h.sub = h.opt.Store.Feed().Subscribe(feedBuffer, feedFilter)
		all := h.allLocked()
		h.mu.Unlock()
		h.loadGroups()
		for _, c := range all {
			c.close(websocket.StatusTryAgainLater, "Bitte neu verbinden.")
		}
	}
}

// drain applies the feed's events in order, except that membership
// changes are coalesced: a group's sync reads the group's current members,
// so one sync serves every change queued behind it. An import of a school
// adds thousands of members one by one; syncing (and decoding the group)
// for each made the hub the import's bottleneck. Pending syncs run before
// any chat message is fanned out, so nobody who has left a room receives
// a message posted after they left, and whenever the feed is caught up.
func (h *Hub) drain(sub *store.Subscription) {
	pending := map[string]bool{}
	flush := func() {
		for g := range pending {
			h.syncGroup(g)
			delete(pending, g)
		}
	}
	for e := range sub.C {
		if e.Kind == store.GroupChanged {
			pending[e.Group] = true
		} else {
			if e.Kind == store.ChatChanged {
				flush()
			}
			h.apply(e)
		}
		if len(sub.C) == 0 {
			flush()
		}
	}
	flush()
}

func (h *Hub) allLocked() []*client {
	var all []*client
	for _, cs := range h.byAccount {
		for c := range cs {
			all = append(all, c)
		}
	}
	return all
}

func (h *Hub) apply(e store.Event) {
	switch e.Kind {
	case store.ChatChanged:
		ch := e.Data.(store.ChatChange)
		m := h.message(ch.Message)
		b, _ := json.Marshal(outbound{T: "msg", Room: ch.Room, Msg: &m})
		h.mu.RLock()
		for c := range h.rooms[ch.Room] {
			c.enqueue(b)
		}
		h.mu.RUnlock()
	case store.AccountChanged, store.AccountDeleted, store.SessionsEnded:
		h.names.forget(e.Account)
		h.mu.RLock()
		var cs []*client
		for c := range h.byAccount[e.Account] {
			cs = append(cs, c)
		}
		h.mu.RUnlock()
		// A lock or a withdrawn consent (CONSENT-COMMS closes chat,
		// CONSENT-PLATFORM everything) ends the connections at once.
		reason := "Sitzung beendet."
		if a, ok := e.Data.(store.Account); ok && e.Kind == store.AccountChanged {
			if d := policy.SessionAllowed(loginFacts(&a), policy.ServiceChat); !d.Allow {
				reason = d.String()
				for _, c := range cs {
					c.close(websocket.StatusPolicyViolation, closeReason(reason))
				}
				return
			}
		}
		for _, c := range cs {
			if h.opt.Valid == nil || !h.opt.Valid(c.account, c.session) {
				c.close(websocket.StatusPolicyViolation, reason)
			}
		}
	case store.GroupChanged:
		h.syncGroup(e.Group)
	case store.ReportCreated:
		h.notifyAdmins()
	}
}

// syncGroup brings every connection's subscription to a group's room in
// line with the group's membership: who left loses the room at once.
func (h *Hub) syncGroup(name string) {
	h.groupSyncs.Add(1)
	g, err := h.opt.Store.Group(name)
	room := store.GroupRoomID(name)
	var changed []*client
	h.mu.Lock()
	if err == nil {
		h.groups[name] = g
	} else {
		delete(h.groups, name)
	}
	for _, cs := range h.byAccount {
		for c := range cs {
			in := err == nil && g.HasMember(c.account)
			if in != c.rooms[room] {
				if in {
					h.joinLocked(c, room)
				} else {
					h.leaveLocked(c, room)
				}
				changed = append(changed, c)
			}
		}
	}
	h.mu.Unlock()
	for _, c := range changed {
		c.sendRooms()
	}
}

func (h *Hub) notifyAdmins() {
	n, err := h.opt.Store.OpenReports()
	if err != nil {
		return
	}
	b, _ := json.Marshal(outbound{T: "reports", Open: &n})
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, cs := range h.byAccount {
		for c := range cs {
			if c.role == "admin" {
				c.enqueue(b)
			}
		}
	}
}
