package chatd

import (
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"schulhof/internal/links"
	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// pageSize is how many messages one history page or resume frame holds.
const pageSize = 50

// errRefused carries a policy refusal out of a store transaction.
type errRefused struct{ d policy.Decision }

func (e errRefused) Error() string { return e.d.String() }

func (c *client) handle(in *inbound) {
	c.h.opt.Metrics.Command(metrics.Chat, in.T)
	switch in.T {
	case "sync":
		c.sync(in)
	case "hist":
		c.history(in)
	case "send":
		c.post(in)
	case "edit", "del":
		c.change(in)
	case "read":
		if c.mayRead(in) {
			c.h.opt.Store.SetRead(c.account, in.Room, in.Seq)
		}
	case "report":
		c.report(in)
	case "search":
		c.search(in)
	case "dm":
		c.openDirect(in)
	default:
		c.send(outbound{T: "err", Ref: in.Ref, Reason: "Unbekannte Anfrage."})
	}
}

// refuse is the one place where a frame's refusal becomes an error frame.
func (c *client) refuse(ref string, d policy.Decision) {
	c.h.opt.Metrics.Refused(metrics.Chat, d)
	c.send(outbound{T: "err", Ref: ref, Rule: string(d.Rule), Reason: d.Reason})
}

func (c *client) fail(ref string, err error) {
	var r errRefused
	if errors.As(err, &r) {
		c.refuse(ref, r.d)
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		c.send(outbound{T: "err", Ref: ref, Reason: "Nicht gefunden."})
		return
	}
	c.log.Error("chat", "account", c.account, "err", err)
	c.send(outbound{T: "err", Ref: ref, Reason: "Interner Fehler; bitte später erneut versuchen."})
}

// membership reads, inside a transaction, whether account is in room and
// whether it teaches the room's group. A direct room must have been
// opened (by someone allowed to open it).
func membership(t *store.Tx, room, account string) (member, teacher bool) {
	kind, names, ok := store.ParseRoomID(room)
	if !ok {
		return false, false
	}
	if kind == "group" {
		g, err := t.Group(names[0])
		if err != nil {
			return false, false
		}
		return g.HasMember(account), g.IsTeacher(account)
	}
	if _, err := t.ChatRoom(room); err != nil {
		return false, false
	}
	return slices.Contains(names, account), false
}

func (c *client) access(t *store.Tx, room string) (teacher bool, d policy.Decision) {
	member, teacher := membership(t, room, c.account)
	return teacher, policy.CheckRoomAccess(member, policy.Role(c.role))
}

// mayRead checks membership from the store (not the hub's cache), so a
// room ID guessed or left behind gives nothing.
func (c *client) mayRead(in *inbound) bool {
	var d policy.Decision
	c.h.opt.Store.View(func(t *store.Tx) error {
		_, d = c.access(t, in.Room)
		return nil
	})
	if !d.Allow {
		c.refuse(in.Ref, d)
	}
	return d.Allow
}

func (c *client) sync(in *inbound) {
	if !c.mayRead(in) {
		return
	}
	msgs, more, err := c.h.opt.Store.ChangesSince(in.Room, in.After, pageSize*4)
	if err != nil {
		c.fail(in.Ref, err)
		return
	}
	c.send(outbound{T: "msgs", Ref: in.Ref, Room: in.Room, Msgs: c.h.messages(msgs), More: more})
}

func (c *client) history(in *inbound) {
	if !c.mayRead(in) {
		return
	}
	msgs, more, err := c.h.opt.Store.History(in.Room, in.Before, pageSize)
	if err != nil {
		c.fail(in.Ref, err)
		return
	}
	c.send(outbound{T: "msgs", Ref: in.Ref, Room: in.Room, Msgs: c.h.messages(msgs), More: more, Hist: true})
}

// checkText applies the bounds and LINK-BLOCK to a message's text.
func (c *client) checkText(text string) policy.Decision {
	if strings.TrimSpace(text) == "" {
		return policy.Deny(policy.LimitMessage, "Leere Nachricht.")
	}
	if !utf8.ValidString(text) {
		return policy.Deny(policy.LimitMessage, "Die Nachricht ist kein gültiger Text.")
	}
	if d := c.h.opt.Policy.CheckBound(policy.ChatMessageBytes, int64(len(text))); !d.Allow {
		return d
	}
	return links.CheckText(text, c.h.opt.Store.Blocklist)
}

// post checks a message (bounds, flood, links) and queues it for the
// connection's poster, which commits in order what has queued up.
func (c *client) post(in *inbound) {
	if d := c.checkText(in.Text); !d.Allow {
		c.refuse(in.Ref, d)
		return
	}
	if d := c.h.flood.allow(c.account, c.h.opt.Now()); !d.Allow {
		c.refuse(in.Ref, d)
		return
	}
	select {
	case c.posts <- in:
	case <-c.ctx.Done():
	}
}

// maxPostBatch is how many queued messages of one connection commit
// together.
const maxPostBatch = 64

// poster commits the connection's queued messages: one transaction for
// all that queued while the previous one was committing (in order).
func (c *client) poster() {
	for {
		var batch []*inbound
		select {
		case in := <-c.posts:
			batch = append(batch, in)
		case <-c.ctx.Done():
			return
		}
	drain:
		for len(batch) < maxPostBatch {
			select {
			case in := <-c.posts:
				batch = append(batch, in)
			default:
				break drain
			}
		}
		posts := make([]store.ChatPost, len(batch))
		now := c.h.opt.Now().UTC()
		for i, in := range batch {
			room := in.Room
			posts[i] = store.ChatPost{Room: room, Author: c.account, Text: in.Text, At: now, Check: func(t *store.Tx) error {
				if _, d := c.access(t, room); !d.Allow {
					return errRefused{d}
				}
				return nil
			}}
		}
		msgs, errs, err := c.h.commit(posts)
		for i, in := range batch {
			switch {
			case err != nil:
				c.fail(in.Ref, err)
			case errs[i] != nil:
				c.fail(in.Ref, errs[i])
			default:
				c.send(outbound{T: "ack", Ref: in.Ref, Room: in.Room, Seq: msgs[i].Seq})
			}
		}
	}
}

func (c *client) change(in *inbound) {
	var text *string
	if in.T == "edit" {
		if d := c.checkText(in.Text); !d.Allow {
			c.refuse(in.Ref, d)
			return
		}
		text = &in.Text
	}
	var teacher bool
	var d policy.Decision
	c.h.opt.Store.View(func(t *store.Tx) error {
		teacher, d = c.access(t, in.Room)
		return nil
	})
	if !d.Allow {
		c.refuse(in.Ref, d)
		return
	}
	m, err := c.h.opt.Store.ChangeMessage(in.Room, in.Seq, c.account, text, func(m *store.ChatMessage) error {
		if d := policy.CheckChatChange(m.Author == c.account, teacher, text == nil); !d.Allow {
			return errRefused{d}
		}
		return nil
	})
	if err != nil {
		c.fail(in.Ref, err)
		return
	}
	c.send(outbound{T: "ack", Ref: in.Ref, Room: in.Room, Seq: m.Seq})
}

// reportContext is how many messages before and after the reported one
// are frozen into the report.
const reportContext = 5

func (c *client) report(in *inbound) {
	if d := c.h.opt.Policy.CheckBound(policy.ChatReportReasonBytes, int64(len(in.Text))); !d.Allow {
		c.refuse(in.Ref, d)
		return
	}
	id, err := c.h.opt.Store.CreateReport(in.Room, in.Seq, c.account, in.Text, reportContext, c.h.opt.Now().UTC(), func(t *store.Tx) error {
		if _, d := c.access(t, in.Room); !d.Allow {
			return errRefused{d}
		}
		return nil
	})
	if err != nil {
		c.fail(in.Ref, err)
		return
	}
	c.log.Info("chat: report", "id", id, "room", in.Room, "seq", in.Seq, "reporter", c.account)
	c.send(outbound{T: "ack", Ref: in.Ref, Room: in.Room, Seq: in.Seq, Report: id})
}

func (c *client) search(in *inbound) {
	if d := c.h.opt.Policy.CheckBound(policy.ChatSearchBytes, int64(len(in.Text))); !d.Allow {
		c.refuse(in.Ref, d)
		return
	}
	if strings.TrimSpace(in.Text) == "" {
		c.send(outbound{T: "found", Ref: in.Ref})
		return
	}
	// the rooms the account is in now, read from the store
	rooms, err := c.h.roomsOf(c.account, policy.Role(c.role))
	if err != nil {
		c.fail(in.Ref, err)
		return
	}
	found, err := c.h.opt.Store.SearchChat(rooms, in.Text, 30, 50000)
	if err != nil {
		c.fail(in.Ref, err)
		return
	}
	hits := make([]hit, 0, len(found))
	for _, f := range found {
		x := hit{Room: f.Room, RoomName: c.h.roomName(f.Room, c.account), Msg: c.h.message(f.Message)}
		if f.Before != nil {
			m := c.h.message(*f.Before)
			x.Before = &m
		}
		if f.After != nil {
			m := c.h.message(*f.After)
			x.After = &m
		}
		hits = append(hits, x)
	}
	c.send(outbound{T: "found", Ref: in.Ref, Hits: hits})
}

// openDirect opens a direct conversation if the opener's role allows it
// (CHAT-DIRECT) and puts both sides' connections in it.
func (c *client) openDirect(in *inbound) {
	h := c.h
	target, terr := h.opt.Store.Account(in.To)
	facts := policy.DirectFacts{From: policy.Role(c.role), TargetExists: terr == nil, Self: in.To == c.account,
		FromScope: h.opt.DirectScopes[policy.Role(c.role)]}
	if terr == nil {
		facts.To = policy.Role(target.Role)
		mine, _ := h.opt.Store.GroupsOf(c.account)
		for _, g := range mine {
			facts.SharedGroup = facts.SharedGroup || g.HasMember(in.To)
		}
	}
	room := store.DirectRoomID(c.account, in.To)
	// an existing conversation may always be continued by both sides
	exists := false
	h.opt.Store.View(func(t *store.Tx) error {
		_, err := t.ChatRoom(room)
		exists = err == nil && terr == nil && in.To != c.account
		return nil
	})
	if !exists {
		if d := policy.CheckDirect(facts); !d.Allow {
			c.refuse(in.Ref, d)
			return
		}
		if err := h.opt.Store.OpenDirectRoom(room); err != nil {
			c.fail(in.Ref, err)
			return
		}
	}
	var both []*client
	h.mu.Lock()
	for _, n := range []string{c.account, in.To} {
		for o := range h.byAccount[n] {
			h.joinLocked(o, room)
			both = append(both, o)
		}
	}
	h.mu.Unlock()
	for _, o := range both {
		o.sendRooms()
	}
	c.send(outbound{T: "ack", Ref: in.Ref, Room: room})
}

// roomName is what a room is called for account: the group's name, or
// the other person's name.
func (h *Hub) roomName(room, account string) string {
	kind, names, _ := store.ParseRoomID(room)
	if kind == "group" {
		return names[0]
	}
	other := names[0]
	if other == account {
		other = names[1]
	}
	return h.names.get(other).name
}

// sendRooms sends the account's rooms with unread counts.
func (c *client) sendRooms() {
	h := c.h
	h.mu.RLock()
	ids := make([]string, 0, len(c.rooms))
	for r := range c.rooms {
		ids = append(ids, r)
	}
	h.mu.RUnlock()
	// group rooms first, then direct conversations
	slices.SortFunc(ids, func(a, b string) int {
		if (a[0] == 'g') != (b[0] == 'g') {
			if a[0] == 'g' {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	infos := make([]roomInfo, 0, len(ids))
	for _, id := range ids {
		kind, names, _ := store.ParseRoomID(id)
		ri := roomInfo{ID: id, Kind: kind, Name: h.roomName(id, c.account)}
		ri.Unread, _ = h.opt.Store.Unread(c.account, id, 99)
		ri.Seq, _ = h.opt.Store.RoomSeq(id)
		if kind == "group" {
			if g, err := h.opt.Store.Group(names[0]); err == nil {
				ri.Teacher = g.IsTeacher(c.account)
			}
		}
		infos = append(infos, ri)
	}
	c.send(outbound{T: "rooms", Rooms: infos})
	if c.role == "admin" {
		if n, err := h.opt.Store.OpenReports(); err == nil {
			c.send(outbound{T: "reports", Open: &n})
		}
	}
}
