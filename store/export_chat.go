package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"
)

// The chat part of an export: the messages the person wrote (not the
// ones of others: those are the others' data), with the room's name, in
// chat.json, and how far the person has read each room (chat-gelesen.json); and the reports the person filed, with their reason, in
// chat-meldungen.json (without the frozen context: that is other people's
// messages). Messages are read exportChunk at a time; a message the person
// deleted is a tombstone without text and is left out.

func init() {
	registerExport("chat", exportChat)
	registerExport("chatreports", exportChatReports)
}

// chatExport is one exported message.
type chatExport struct {
	Room     string    `json:"raum"`
	RoomName string    `json:"raumname"`
	Seq      uint64    `json:"nr"`
	Time     time.Time `json:"zeit"`
	Text     string    `json:"text"`
	Edited   bool      `json:"bearbeitet,omitempty"`
}

// roomName is what the person sees as the room's name.
func roomName(id, account string) string {
	kind, names, ok := ParseRoomID(id)
	switch {
	case !ok:
		return id
	case kind == "group":
		return "Gruppe " + names[0]
	case names[0] == account:
		return "Direktnachrichten mit " + names[1]
	default:
		return "Direktnachrichten mit " + names[0]
	}
}

func exportChat(s *Store, account string, out ExportSink) error {
	list, err := newJSONList(out, "chat.json")
	if err != nil {
		return err
	}
	err = s.scanChunks(bucketChatMsgs, nil, func(k, v []byte) error {
		var m ChatMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		if m.Author != account || m.Deleted {
			return nil
		}
		i := bytes.IndexByte(k, 0)
		room := string(k[:i])
		return list.add(chatExport{Room: room, RoomName: roomName(room, account), Seq: binary.BigEndian.Uint64(k[i+1:]),
			Time: m.Time, Text: m.Text, Edited: m.Edited})
	})
	if err != nil {
		return err
	}
	if err := list.close(); err != nil {
		return err
	}
	// Read marks: up to which message the person has read each room.
	marks, err := newJSONList(out, "chat-gelesen.json")
	if err != nil {
		return err
	}
	prefix := []byte(account + "\x00")
	err = s.scanChunks(bucketChatRead, prefix, func(k, v []byte) error {
		if len(v) != 8 {
			return nil
		}
		room := string(k[len(prefix):])
		return marks.add(map[string]any{"raum": room, "raumname": roomName(room, account), "gelesen_bis_nr": binary.BigEndian.Uint64(v)})
	})
	if err != nil {
		return err
	}
	return marks.close()
}

// reportExport is one report the person filed.
type reportExport struct {
	ID       uint64    `json:"nr"`
	Time     time.Time `json:"zeit"`
	Room     string    `json:"raum"`
	RoomName string    `json:"raumname"`
	Seq      uint64    `json:"nachricht_nr"`
	Reason   string    `json:"grund"`
	Closed   bool      `json:"erledigt"`
	ClosedAt time.Time `json:"erledigt_am,omitzero"`
}

func exportChatReports(s *Store, account string, out ExportSink) error {
	list, err := newJSONList(out, "chat-meldungen.json")
	if err != nil {
		return err
	}
	err = s.scanChunks(bucketChatReports, nil, func(k, v []byte) error {
		var r ChatReport
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		if r.Reporter != account {
			return nil
		}
		return list.add(reportExport{ID: r.ID, Time: r.Time, Room: r.Room, RoomName: roomName(r.Room, account),
			Seq: r.Seq, Reason: r.Reason, Closed: r.Closed, ClosedAt: r.ClosedAt})
	})
	if err != nil {
		return err
	}
	return list.close()
}
