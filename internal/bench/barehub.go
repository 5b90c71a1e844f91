package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// BareHub is the baseline of `schulhof bench chat`: a coder/websocket hub
// that fans a message out to its room and nothing else (no store, no
// policy, no sessions). Client ?u=N is in room N/roomSize. It speaks the
// subset of the chat protocol the bench uses, so both run the same load.
type BareHub struct {
	RoomSize int
	mu       sync.RWMutex
	rooms    map[string]map[*bareClient]struct{}
}

type bareClient struct {
	c   *websocket.Conn
	out chan []byte
}

func NewBareHub(roomSize int) *BareHub {
	return &BareHub{RoomSize: roomSize, rooms: map[string]map[*bareClient]struct{}{}}
}

func (h *BareHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u, _ := strconv.Atoi(r.URL.Query().Get("u"))
	room := "g:r" + strconv.Itoa(u/h.RoomSize)
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled, InsecureSkipVerify: true})
	if err != nil {
		return
	}
	bc := &bareClient{c: c, out: make(chan []byte, 256)}
	h.mu.Lock()
	if h.rooms[room] == nil {
		h.rooms[room] = map[*bareClient]struct{}{}
	}
	h.rooms[room][bc] = struct{}{}
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(r.Context())
	defer func() {
		cancel()
		h.mu.Lock()
		delete(h.rooms[room], bc)
		h.mu.Unlock()
		c.CloseNow()
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case b := <-bc.out:
				wctx, wc := context.WithTimeout(ctx, 5*time.Second)
				err := c.Write(wctx, websocket.MessageText, b)
				wc()
				if err != nil {
					cancel()
					return
				}
			}
		}
	}()
	hello, _ := json.Marshal(map[string]any{"t": "rooms", "rooms": []map[string]string{{"id": room}}})
	bc.out <- hello
	var seq uint64
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		var in struct {
			T, Room, Text string
		}
		if json.Unmarshal(data, &in) != nil || in.T != "send" {
			continue
		}
		seq++
		b, _ := json.Marshal(map[string]any{"t": "msg", "room": room, "msg": map[string]any{"seq": seq, "text": in.Text}})
		h.mu.RLock()
		for o := range h.rooms[room] {
			select {
			case o.out <- b:
			default: // too slow: dropped, as chatd does
				go o.c.CloseNow()
			}
		}
		h.mu.RUnlock()
	}
}
