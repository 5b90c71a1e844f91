package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"schulhof/store"
)

// lockedClock is a test clock another goroutine may read while it moves.
type lockedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *lockedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *lockedClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A check waiting in reserve behind pending ones ends when its context
// does (the client went away), taking nothing; and it goes ahead when a
// token comes back with time, though no pending check settles.
func TestThrottleWaiterContextAndTime(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &lockedClock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	v := New(st, Options{Domain: "schule.test", FailuresPerAccount: 600, FailuresPerIP: 1000, Now: c.now})
	t.Cleanup(v.Close)
	for i := range 600 { // the account's bucket is empty, all checks pending
		if !v.reserve(context.Background(), "max.mueller", "10.0.0.1") {
			t.Fatalf("reserve %d refused", i)
		}
	}
	// A hang guard, not a timing bound: before the fix a waiter woke only
	// when a pending check settled, which none does here.
	wait := func(done chan bool) bool {
		t.Helper()
		select {
		case ok := <-done:
			return ok
		case <-time.After(time.Minute):
			t.Fatal("the waiter never returned")
			return false
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan bool)
	go func() { done <- v.reserve(ctx, "max.mueller", "10.0.0.1") }()
	cancel()
	if wait(done) {
		t.Fatal("a waiter whose context ended was let through")
	}
	v.mu.Lock()
	pending, tokens := v.throttle[accountKey("max.mueller")].pending, v.throttle[accountKey("max.mueller")].tokens
	v.mu.Unlock()
	if pending != 600 || tokens >= 1 {
		t.Fatalf("the cancelled waiter took something: %d pending, %.1f tokens", pending, tokens)
	}
	go func() { done <- v.reserve(context.Background(), "max.mueller", "10.0.0.1") }()
	c.advance(time.Second) // 10 tokens back at 600 a minute
	if !wait(done) {
		t.Fatal("a token came back with time, the waiter was refused")
	}
}
