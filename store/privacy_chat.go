package store

// Privacy provider "chat": messages the person wrote become tombstones
// without author and text (the conversation keeps its shape: the others'
// messages keep their places and numbers), their read marks go, and their
// direct conversations are renamed: a direct room's ID holds both names,
// so the room moves to an ID with a pseudonym in the person's place and
// stays with the other person, tombstones and all.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
)

// ErasedPeerPrefix starts the pseudonym that replaces an erased person in
// the ID of a direct room ("~" sorts after every account name).
const ErasedPeerPrefix = "~geloescht-"

func init() {
	registerPrivacy(PrivacyProvider{
		Name:       "chat",
		Buckets:    [][]byte{bucketChatRooms, bucketChatMsgs, bucketChatRev, bucketChatRead, bucketChatDirect},
		Categories: []int{CategoryTeaching, CategoryAutomatic},
		Keeps: "Chat: Räume der Gruppen und Direktgespräche (mit den Namen der beiden Beteiligten), " +
			"Nachrichten mit Verfasser, Text und Zeitstempel, Lesemarken",
		Retention: "bis zum Widerruf der Einwilligung (auch nur der für E-Mail und Chat) oder dem Ende der Schulzeit; " +
			"gelöschte Nachrichten bleiben als leere Platzhalter ohne Verfasser",
		Comms: true,
		Erase: eraseChat,
	})
}

func eraseChat(s *Store, account string, r *ErasureReport) error {
	err := s.eraseScan(r, "chat", bucketChatMsgs, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var m ChatMessage
		if json.Unmarshal(v, &m) != nil || (m.Author != account && m.DeletedBy != account) {
			return nil, false, nil
		}
		room := string(k[:bytes.IndexByte(k, 0)])
		rm, err := t.ChatRoom(room)
		if err != nil {
			return nil, false, err
		}
		rm.Seq++
		if err := t.putRoom(rm); err != nil {
			return nil, false, err
		}
		if err := t.bucket(bucketChatRev).Delete(chatKey(room, m.Rev)); err != nil {
			return nil, false, err
		}
		if m.Author == account {
			m.Author, m.Text, m.Deleted, m.Edited = "", "", true, false
		}
		m.DeletedBy = ""
		m.Rev = rm.Seq
		if err := t.bucket(bucketChatRev).Put(chatKey(room, m.Rev), u64(m.Seq)); err != nil {
			return nil, false, err
		}
		t.publish(Event{Kind: ChatChanged, Data: ChatChange{Room: room, Message: m}})
		nv, _ := json.Marshal(m)
		return nv, false, nil
	})
	if err != nil {
		return err
	}
	// Read marks, then the direct rooms one by one.
	if err := s.eraseLoop(r, "chat", func(t *Tx) (int, bool, error) {
		n, err := t.deletePrefix(bucketChatRead, []byte(account+"\x00"), eraseChunk)
		return n, n < eraseChunk, err
	}); err != nil {
		return err
	}
	for {
		var room string
		if err := s.view(func(t *Tx) error {
			p := []byte(account + "\x00")
			if k, _ := t.bucket(bucketChatDirect).Cursor().Seek(p); k != nil && hasPrefix(k, p) {
				room = string(k[len(p):])
			}
			return nil
		}); err != nil {
			return err
		}
		if room == "" {
			return nil
		}
		if err := s.renameDirectRoom(r, account, room); err != nil {
			return err
		}
	}
}

// renameDirectRoom moves a direct room of account to an ID with a
// pseudonym in account's place: messages and their change index in
// chunks, then the room record, the other person's read mark and index,
// and the reports that name the room.
func (s *Store) renameDirectRoom(r *ErasureReport, account, old string) error {
	kind, names, ok := ParseRoomID(old)
	if !ok || kind != "direct" {
		return s.eraseUpdate(r, func(t *Tx) error {
			return t.bucket(bucketChatDirect).Delete([]byte(account + "\x00" + old))
		})
	}
	other := names[0]
	if other == account {
		other = names[1]
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	nu := DirectRoomID(other, ErasedPeerPrefix+hex.EncodeToString(rnd[:]))
	oldP, nuP := roomPrefix(old), roomPrefix(nu)
	for _, b := range [][]byte{bucketChatMsgs, bucketChatRev} {
		if err := s.eraseLoop(r, "chat", func(t *Tx) (int, bool, error) {
			bk := t.bucket(b)
			c := bk.Cursor()
			n := 0
			for k, v := c.Seek(oldP); k != nil && hasPrefix(k, oldP) && n < eraseChunk; k, v = c.Seek(oldP) {
				nk := append(append([]byte(nil), nuP...), k[len(oldP):]...)
				if err := bk.Put(nk, bytes.Clone(v)); err != nil {
					return n, false, err
				}
				if err := bk.Delete(bytes.Clone(k)); err != nil {
					return n, false, err
				}
				n++
			}
			return n, n < eraseChunk, nil
		}); err != nil {
			return err
		}
	}
	err := s.eraseUpdate(r, func(t *Tx) error {
		if rm, err := t.ChatRoom(old); err == nil {
			_, members, _ := ParseRoomID(nu)
			rm.ID, rm.Members = nu, members
			if err := t.putRoom(rm); err != nil {
				return err
			}
			if err := t.bucket(bucketChatRooms).Delete([]byte(old)); err != nil {
				return err
			}
		}
		for _, b := range [][]byte{bucketChatRead, bucketChatDirect} {
			bk := t.bucket(b)
			if v := bk.Get([]byte(other + "\x00" + old)); v != nil {
				if err := bk.Put([]byte(other+"\x00"+nu), bytes.Clone(v)); err != nil {
					return err
				}
				if err := bk.Delete([]byte(other + "\x00" + old)); err != nil {
					return err
				}
			}
		}
		if err := t.bucket(bucketChatDirect).Delete([]byte(account + "\x00" + old)); err != nil {
			return err
		}
		r.Add("chat", 1)
		return nil
	})
	if err != nil {
		return err
	}
	return s.eraseScan(r, "chatreports", bucketChatReports, nil, func(t *Tx, k, v []byte) ([]byte, bool, error) {
		var rep ChatReport
		if json.Unmarshal(v, &rep) != nil || rep.Room != old {
			return nil, false, nil
		}
		rep.Room = nu
		nv, _ := json.Marshal(rep)
		return nv, false, nil
	})
}
