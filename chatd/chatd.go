// Package chatd is Schulhof's chat: rooms (one per group, plus direct
// conversations), messages, reports and the WebSocket hub. web mounts it
// and tells it who a request's session belongs to.
//
// A message is committed with its room's next sequence number before
// anyone sees it: the hub fans out what the store's change feed delivers,
// in commit order. A client that reconnects sends, per room, the last
// sequence number it saw and gets every message created, edited or
// deleted since. A client that cannot keep up is dropped, never waited
// for; it loses nothing because it resumes.
package chatd

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"schulhof/internal/metrics"
	"schulhof/policy"
	"schulhof/store"
)

// Options configure the hub.
type Options struct {
	Store  *store.Store
	Policy *policy.Engine
	Logger *slog.Logger
	// Authenticate returns the account and session key of a request's
	// session cookie; ok is false without a valid session.
	Authenticate func(r *http.Request) (account, session string, ok bool)
	// Valid re-checks a session (after a lock, a password change or a
	// logout everywhere); a connection whose session is gone is closed.
	Valid func(account, session string) bool
	// Module says whether chat is switched on for an account (MODULE-OFF).
	Module func(a *store.Account) policy.Decision
	// DirectScopes: with whom each role may open a direct conversation;
	// nil: policy.DefaultDirectScopes.
	DirectScopes map[policy.Role]policy.DirectScope
	// WriteTimeout bounds every write to a client (default 5 s).
	WriteTimeout time.Duration
	// SendQueue is how many frames may wait for one client before it is
	// dropped as too slow (default 256).
	SendQueue int
	Now       func() time.Time
	// Metrics counts sockets, frames and refusals; nil: none.
	Metrics *metrics.Metrics
}

// Hub serves the chat WebSocket at its mount point.
type Hub struct {
	opt Options
	log *slog.Logger

	mu        sync.RWMutex
	rooms     map[string]map[*client]struct{} // room → subscribed clients
	byAccount map[string]map[*client]struct{}
	closed    bool

	// groups mirrors the store's groups (loaded at start, refreshed on
	// GroupChanged), so a connection finds its rooms without a scan of
	// the store: 10,000 browsers reconnect at once after a restart.
	groups     map[string]*store.Group
	groupSyncs atomic.Int64 // syncGroup calls (coalescing is tested by it)
	names      nameCache
	commits    chan *commitReq // to the committer (commit.go)
	flood      *floodControl
	sub        *store.Subscription
	done       chan struct{}
	ctx        context.Context
	cancel     context.CancelFunc
}

// New starts the hub's feed reader.
func New(opt Options) *Hub {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.WriteTimeout <= 0 {
		opt.WriteTimeout = 5 * time.Second
	}
	if opt.SendQueue <= 0 {
		opt.SendQueue = 256
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.DirectScopes == nil {
		opt.DirectScopes = policy.DefaultDirectScopes()
	}
	h := &Hub{opt: opt, log: opt.Logger, rooms: map[string]map[*client]struct{}{},
		byAccount: map[string]map[*client]struct{}{}, done: make(chan struct{})}
	h.names = nameCache{st: opt.Store, m: map[string]person{}}
	h.flood = newFloodControl(opt.Policy)
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.sub = opt.Store.Feed().Subscribe(feedBuffer, feedFilter)
	h.loadGroups()
	h.commits = make(chan *commitReq, 1024)
	go h.run()
	go h.committer()
	return h
}

// Close ends every connection (clients reconnect and resume) and the
// feed reader.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	var all []*client
	for _, cs := range h.byAccount {
		for c := range cs {
			all = append(all, c)
		}
	}
	sub := h.sub
	h.sub = nil
	h.mu.Unlock()
	for _, c := range all {
		c.close(websocket.StatusGoingAway, "Server wird neu gestartet.")
	}
	if sub != nil {
		sub.Close()
	}
	h.cancel()
	<-h.done
}

// Connections counts open WebSocket connections (tests, bench).
func (h *Hub) Connections() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, cs := range h.byAccount {
		n += len(cs)
	}
	return n
}

// ServeHTTP upgrades a request with a valid session cookie and an
// Origin of this host to the chat WebSocket.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "Verbindung von fremder Seite abgelehnt (Origin).", http.StatusForbidden)
		return
	}
	account, session, ok := h.opt.Authenticate(r)
	if !ok {
		http.Error(w, "Nicht angemeldet.", http.StatusUnauthorized)
		return
	}
	a, err := h.opt.Store.Account(account)
	if err != nil {
		http.Error(w, "Nicht angemeldet.", http.StatusUnauthorized)
		return
	}
	d := policy.CheckLogin(loginFacts(a), policy.ServiceChat, policy.PurposeUse)
	if d.Allow && h.opt.Module != nil {
		d = h.opt.Module(a)
	}
	if !d.Allow {
		h.opt.Metrics.Refused(metrics.Chat, d)
		http.Error(w, d.String(), http.StatusForbidden)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept answered already
	}
	conn.SetReadLimit(h.opt.Policy.Bound(policy.ChatFrameBytes))
	c := newClient(h, conn, a, session)
	if !h.register(c) {
		conn.Close(websocket.StatusGoingAway, "Server wird neu gestartet.")
		return
	}
	defer h.unregister(c)
	defer h.opt.Metrics.ConnOpened(metrics.Chat, "https")()
	c.serve()
}

// sameOrigin requires the browser's Origin to name the host the request
// was sent to; a request without Origin is refused (browsers always send
// one with a WebSocket upgrade).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	return err == nil && u.Host != "" && u.Host == r.Host
}

func (h *Hub) register(c *client) bool {
	rooms, err := h.roomsOf(c.account, policy.Role(c.role))
	if err != nil {
		c.log.Error("chat: rooms", "account", c.account, "err", err)
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if h.byAccount[c.account] == nil {
		h.byAccount[c.account] = map[*client]struct{}{}
	}
	h.byAccount[c.account][c] = struct{}{}
	for _, r := range rooms {
		h.joinLocked(c, r)
	}
	return true
}

func (h *Hub) unregister(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.byAccount[c.account], c)
	if len(h.byAccount[c.account]) == 0 {
		delete(h.byAccount, c.account)
	}
	for r := range c.rooms {
		delete(h.rooms[r], c)
		if len(h.rooms[r]) == 0 {
			delete(h.rooms, r)
		}
	}
}

// joinLocked subscribes c to a room; call with h.mu held.
func (h *Hub) joinLocked(c *client, room string) {
	if h.rooms[room] == nil {
		h.rooms[room] = map[*client]struct{}{}
	}
	h.rooms[room][c] = struct{}{}
	c.rooms[room] = true
}

func (h *Hub) leaveLocked(c *client, room string) {
	delete(h.rooms[room], c)
	if len(h.rooms[room]) == 0 {
		delete(h.rooms, room)
	}
	delete(c.rooms, room)
}

// roomsOf lists the rooms an account belongs to: its groups' rooms (as
// member or teacher) and its direct conversations.
func (h *Hub) roomsOf(account string, role policy.Role) ([]string, error) {
	var out []string
	h.mu.RLock()
	for name, g := range h.groups {
		if g.HasMember(account) {
			out = append(out, store.GroupRoomID(name))
		}
	}
	h.mu.RUnlock()
	direct, err := h.opt.Store.DirectRoomsOf(account)
	return append(out, direct...), err
}

// loadGroups fills the group mirror (after subscribing, so no change is
// missed between the two).
func (h *Hub) loadGroups() {
	all, err := h.opt.Store.Groups()
	if err != nil {
		h.log.Error("chat: groups", "err", err)
	}
	m := make(map[string]*store.Group, len(all))
	for i := range all {
		m[all[i].Name] = &all[i]
	}
	h.mu.Lock()
	h.groups = m
	h.mu.Unlock()
}

func loginFacts(a *store.Account) policy.LoginFacts {
	return policy.LoginFacts{Locked: a.Locked, LockReason: a.LockReason, MustChange: a.MustChange,
		ConsentPlatform: a.ConsentPlatform, ConsentComms: a.ConsentComms}
}

// closeReason fits a close frame's reason (at most 123 bytes) without
// cutting a UTF-8 character.
func closeReason(s string) string {
	if len(s) <= 123 {
		return s
	}
	cut := 123
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}
