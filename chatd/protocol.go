package chatd

import (
	"time"

	"schulhof/store"
)

// inbound is one frame from the browser. T says what it asks:
//
//	sync    Room, After: every message created or changed after After
//	hist    Room, Before: a page of older messages (Before 0: the newest)
//	send    Room, Text
//	edit    Room, Seq, Text
//	del     Room, Seq
//	read    Room, Seq: read up to Seq
//	report  Room, Seq, Text (the reason)
//	search  Text
//	dm      To: open a direct conversation
//
// Ref is echoed in the answer so the page can match it.
type inbound struct {
	T      string `json:"t"`
	Ref    string `json:"ref,omitempty"`
	Room   string `json:"room,omitempty"`
	Text   string `json:"text,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	After  uint64 `json:"after,omitempty"`
	Before uint64 `json:"before,omitempty"`
	To     string `json:"to,omitempty"`
}

// outbound is one frame to the browser:
//
//	rooms     Rooms: the rooms of the account with unread counts
//	msg       Room, Msg: a new, edited or deleted message (fan-out)
//	msgs      Room, Msgs, More, Hist: answer to sync or hist
//	ack       Ref, Seq: a send/edit/del/report succeeded (Report: its ID)
//	err       Ref, Rule, Reason: a refusal, shown to the sender
//	found     Hits: search results with context
//	reports   Open: open reports (admins only)
//	batch     Items: several of the above that queued up, in order
type outbound struct {
	T      string     `json:"t"`
	Ref    string     `json:"ref,omitempty"`
	Room   string     `json:"room,omitempty"`
	Rooms  []roomInfo `json:"rooms,omitempty"`
	Msg    *message   `json:"msg,omitempty"`
	Msgs   []message  `json:"msgs,omitempty"`
	More   bool       `json:"more,omitempty"`
	Hist   bool       `json:"hist,omitempty"`
	Seq    uint64     `json:"seq,omitempty"`
	Rule   string     `json:"rule,omitempty"`
	Reason string     `json:"reason,omitempty"`
	Hits   []hit      `json:"hits,omitempty"`
	Open   *int       `json:"open,omitempty"`
	Report uint64     `json:"report,omitempty"`
}

type roomInfo struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Unread  int    `json:"unread"`
	Seq     uint64 `json:"seq"`
	Teacher bool   `json:"teacher,omitempty"` // the account teaches this room's group
}

// message is a store message with the author's display name and colour.
type message struct {
	Seq     uint64    `json:"seq"`
	Rev     uint64    `json:"rev"`
	Author  string    `json:"author"`
	Name    string    `json:"name"`
	Color   string    `json:"color,omitempty"`
	Text    string    `json:"text,omitempty"`
	Time    time.Time `json:"time"`
	Edited  bool      `json:"edited,omitempty"`
	Deleted bool      `json:"deleted,omitempty"`
}

type hit struct {
	Room     string   `json:"room"`
	RoomName string   `json:"room_name"`
	Msg      message  `json:"msg"`
	Before   *message `json:"before,omitempty"`
	After    *message `json:"after,omitempty"`
}

func (h *Hub) message(m store.ChatMessage) message {
	p := h.names.get(m.Author)
	return message{Seq: m.Seq, Rev: m.Rev, Author: m.Author, Name: p.name, Color: p.color, Text: m.Text,
		Time: m.Time, Edited: m.Edited, Deleted: m.Deleted}
}

func (h *Hub) messages(ms []store.ChatMessage) []message {
	out := make([]message, len(ms))
	for i, m := range ms {
		out[i] = h.message(m)
	}
	return out
}
