package chatd

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"schulhof/policy"
	"schulhof/store"
)

// hubEnv: a hub whose "session" is the X-Account header (web does the
// real thing; these tests are about the hub).
func hubEnv(t *testing.T, queue int, accounts ...string) (*Hub, *store.Store, string) {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		st.CreateAccount(store.Account{First: a, Last: "X", Role: "student", ConsentPlatform: true, ConsentComms: true}, func(int) string { return a })
	}
	st.CreateGroup(store.Group{Name: "5a", Kind: "class", Members: accounts})
	h := New(Options{Store: st, Policy: policy.NewEngine(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SendQueue: queue,
		Authenticate: func(r *http.Request) (string, string, bool) {
			a := r.Header.Get("X-Account")
			return a, "s-" + a, a != ""
		},
		Valid: func(string, string) bool { return true }})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { h.Close(); srv.Close(); st.Close() })
	return h, st, ln.Addr().String()
}

func dialAs(t *testing.T, addr, account string) *websocket.Conn {
	t.Helper()
	hd := http.Header{"X-Account": {account}, "Origin": {"http://" + addr}}
	c, _, err := websocket.Dial(context.Background(), "ws://"+addr+"/", &websocket.DialOptions{HTTPHeader: hd})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	return c
}

// A client that stops reading is dropped; the others get every message
// and the senders are never held up by it.
func TestSlowClientIsDroppedNotWaitedFor(t *testing.T) {
	h, st, addr := hubEnv(t, 128, "fast", "slow")
	fast, slow := dialAs(t, addr, "fast"), dialAs(t, addr, "slow")
	defer fast.CloseNow()
	defer slow.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	readType := func(c *websocket.Conn, typ string) {
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), `"t":"`+typ+`"`) {
				return
			}
		}
	}
	readType(fast, "rooms")
	readType(slow, "rooms") // then slow reads no more
	text := strings.Repeat("x", 3000)
	const total = 4000 // ~12 MB: more than the kernel buffers of a loopback socket
	done := make(chan error, 1)
	var got atomic.Int64
	progress := make(chan struct{}, 1)
	go func() {
		for got.Load() < total {
			_, data, err := fast.Read(ctx)
			if err != nil {
				done <- err
				return
			}
			got.Add(int64(strings.Count(string(data), `"t":"msg"`)))
			select {
			case progress <- struct{}{}:
			default:
			}
		}
		done <- nil
	}()
	for sent := 0; sent < total; sent += 50 {
		// The fast client keeps up by definition: never more than a batch
		// ahead of what it has read, well inside its queue of 128, so on a
		// loaded machine it is not mistaken for a slow one.
		for int64(sent)-got.Load() > 50 {
			select {
			case <-progress:
			case err := <-done:
				t.Fatalf("fast client: %v", err)
			case <-ctx.Done():
				t.Fatal("fast client stopped reading")
			}
		}
		posts := make([]store.ChatPost, 50)
		for i := range posts {
			posts[i] = store.ChatPost{Room: "g:5a", Author: "fast", Text: text, At: time.Now()}
		}
		if _, _, err := st.PostMessages(posts); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("fast client: %v", err)
	}
	// the slow one was dropped: reading now drains what the kernel held,
	// then the connection ends
	for {
		if _, _, err := slow.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("slow client was never dropped")
			}
			break
		}
	}
	_ = h
}
