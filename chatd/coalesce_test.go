package chatd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"schulhof/store"
)

// readUntil reads frames until one of type typ satisfies ok; every frame
// before it is passed to seen.
func readUntil(t *testing.T, c *websocket.Conn, typ string, ok func(string) bool, seen func(string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		if strings.Contains(s, `"t":"`+typ+`"`) && ok(s) {
			return
		}
		if seen != nil {
			seen(s)
		}
	}
}

func hasRoom(s string) bool { return strings.Contains(s, `"g:5a"`) }

// A burst of membership changes (an import adds a class one pupil at a
// time) is served by one sync of the group, not one per change.
func TestGroupChangesCoalesced(t *testing.T) {
	h, st, addr := hubEnv(t, 128, "b")
	const n = 200
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("p%03d", i)
		if _, err := st.CreateAccount(store.Account{First: name, Last: "X", Role: "student", ConsentPlatform: true, ConsentComms: true}, func(int) string { return name }); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	b := dialAs(t, addr, "b")
	defer b.CloseNow()
	readUntil(t, b, "rooms", hasRoom, nil)
	before := h.groupSyncs.Load()

	// While the hub is held up, the changes queue in its feed.
	h.mu.Lock()
	for _, name := range names {
		if _, err := st.AddToGroup("5a", store.AsMember, name); err != nil {
			h.mu.Unlock()
			t.Fatal(err)
		}
	}
	if _, err := st.RemoveFromGroup("5a", store.AsMember, "b"); err != nil {
		h.mu.Unlock()
		t.Fatal(err)
	}
	h.mu.Unlock()

	readUntil(t, b, "rooms", func(s string) bool { return !hasRoom(s) }, nil)
	if syncs := h.groupSyncs.Load() - before; syncs > 3 {
		t.Fatalf("%d membership changes took %d group syncs, want them coalesced (<= 3)", n+1, syncs)
	}
	g, err := st.Group("5a")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Members) != n || g.HasMember("b") {
		t.Fatalf("group has %d members (b in: %v), want %d without b", len(g.Members), g.HasMember("b"), n)
	}
}

// Coalescing never lets a message overtake a membership change: who left
// the room before a message was posted does not receive it. The hub's own
// feed reader is stopped, so both events are queued when drain sees them.
func TestLeftMemberMissesLaterMessage(t *testing.T) {
	h, st, addr := hubEnv(t, 128, "a", "b")
	a, b := dialAs(t, addr, "a"), dialAs(t, addr, "b")
	defer a.CloseNow()
	defer b.CloseNow()
	readUntil(t, a, "rooms", hasRoom, nil)
	readUntil(t, b, "rooms", hasRoom, nil)

	h.mu.Lock()
	own := h.sub
	h.sub = nil
	h.mu.Unlock()
	own.Close()
	<-h.done
	sub := st.Feed().Subscribe(64, feedFilter)
	if _, err := st.RemoveFromGroup("5a", store.AsMember, "b"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.PostMessages([]store.ChatPost{{Room: "g:5a", Author: "a", Text: "nach dem Austritt", At: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if len(sub.C) != 2 {
		t.Fatalf("%d events queued, want the removal and the message", len(sub.C))
	}
	sub.Close()
	h.drain(sub)

	readUntil(t, a, "msg", func(s string) bool { return strings.Contains(s, "nach dem Austritt") }, nil)
	readUntil(t, b, "rooms", func(s string) bool { return !hasRoom(s) }, func(s string) {
		if strings.Contains(s, "nach dem Austritt") {
			t.Errorf("b left the room before the message and still got it: %s", s)
		}
	})
}
