package chatd

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/coder/websocket"

	"schulhof/internal/logid"
	"schulhof/store"
)

// client is one WebSocket connection. Writes go through out, drained by
// one writer; a full out means the client is too slow and it is dropped.
type client struct {
	h       *Hub
	log     *slog.Logger // h.log with this socket's session ID
	conn    *websocket.Conn
	account string
	role    string
	session string
	rooms   map[string]bool // under h.mu
	out     chan []byte
	posts   chan *inbound // sends waiting for the poster

	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
}

func newClient(h *Hub, conn *websocket.Conn, a *store.Account, session string) *client {
	c := &client{h: h, log: h.log.With(logid.Key, logid.New()), conn: conn, account: a.Name, role: a.Role, session: session,
		rooms: map[string]bool{}, out: make(chan []byte, h.opt.SendQueue), posts: make(chan *inbound, maxPostBatch)}
	c.ctx, c.cancel = context.WithCancel(h.ctx)
	return c
}

// serve runs the writer and reads until the connection ends.
func (c *client) serve() {
	go c.writer()
	go c.poster()
	c.sendRooms()
	for {
		_, data, err := c.conn.Read(c.ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) && c.ctx.Err() == nil {
				c.log.Debug("chat: read", "account", c.account, "err", err)
			}
			c.cancel()
			return
		}
		var in inbound
		if err := json.Unmarshal(data, &in); err != nil {
			c.send(outbound{T: "err", Reason: "Ungültige Nachricht."})
			continue
		}
		c.handle(&in)
	}
}

// maxCoalesce is how many queued frames the writer sends as one.
const maxCoalesce = 64

// writer sends what is queued. Frames that queued up while the previous
// write was under way go out together as one {"t":"batch","items":[…]}
// frame: one system call instead of many when a commit fans out a burst.
func (c *client) writer() {
	var buf []byte
	for {
		var first []byte
		select {
		case <-c.ctx.Done():
			return
		case first = <-c.out:
		}
		frame := first
		if len(c.out) > 0 {
			buf = append(buf[:0], `{"t":"batch","items":[`...)
			buf = append(buf, first...)
		drain:
			for n := 1; n < maxCoalesce; n++ {
				select {
				case b := <-c.out:
					buf = append(append(buf, ','), b...)
				default:
					break drain
				}
			}
			frame = append(buf, "]}"...)
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.h.opt.WriteTimeout)
		err := c.conn.Write(ctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			c.close(websocket.StatusTryAgainLater, "Zu langsam; bitte neu verbinden.")
			return
		}
	}
}

// enqueue queues a frame without waiting; a client whose queue is full is
// dropped (it resumes from its last sequence number when it reconnects).
func (c *client) enqueue(b []byte) {
	select {
	case c.out <- b:
	default:
		c.close(websocket.StatusTryAgainLater, "Zu langsam; bitte neu verbinden.")
	}
}

func (c *client) send(o outbound) {
	b, err := json.Marshal(o)
	if err != nil {
		return
	}
	c.enqueue(b)
}

// close ends the connection once, with a status the browser shows. The
// close handshake runs in its own goroutine: the hub never waits for a
// client. Cancelling the context only after it keeps the reader alive to
// receive the peer's close frame.
func (c *client) close(code websocket.StatusCode, reason string) {
	c.once.Do(func() {
		go func() {
			c.conn.Close(code, reason)
			c.cancel()
		}()
	})
}
