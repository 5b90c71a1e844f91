package auth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

func TestHashRoundTrip(t *testing.T) {
	h, err := HashPassword("Str0ng!Passw0rd", UserParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("not a PHC argon2id string: %s", h)
	}
	if ok, err := CheckPassword("Str0ng!Passw0rd", h); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := CheckPassword("Str0ng!Passw0rD", h); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := HashPassword("Str0ng!Passw0rd", UserParams)
	if h == h2 {
		t.Fatal("same hash twice: salt missing")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAA", "plain"} {
		if ok, err := CheckPassword("x", bad); ok || err == nil {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestGenerateOneTime(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		pw := GenerateOneTime()
		if d := policy.CheckPassword(pw, policy.PasswordFacts{}); !d.Allow {
			t.Fatalf("generated %q fails %s", pw, d)
		}
		if strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("generated %q has ambiguous characters", pw)
		}
		if seen[pw] {
			t.Fatalf("generated %q twice", pw)
		}
		seen[pw] = true
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*Verifier, *store.Store, *clock) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, _ := HashPassword("Str0ng!Passw0rd", UserParams)
	if _, err := st.CreateAccount(store.Account{First: "Max", Last: "Müller", Role: "student", PasswordHash: h,
		ConsentPlatform: true, ConsentComms: true}, func(int) string { return "max.mueller" }); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	v := New(st, Options{Domain: "schule.test", FailuresPerAccount: 5, FailuresPerIP: 30, CacheTTL: time.Minute, Now: c.now})
	t.Cleanup(v.Close)
	return v, st, c
}

func try(v *Verifier, name, pw, ip string) policy.Decision {
	_, d := v.Verify(context.Background(), Attempt{Name: name, Password: pw, Protocol: "imap", IP: ip, Service: policy.ServiceMail})
	return d
}

func TestVerify(t *testing.T) {
	v, st, _ := setup(t)
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.1"); !d.Allow {
		t.Fatalf("right password: %s", d)
	}
	if d := try(v, "Max.Mueller@Schule.test", "Str0ng!Passw0rd", "10.0.0.1"); !d.Allow {
		t.Fatalf("address as login name: %s", d)
	}
	if d := try(v, "max.mueller@other.test", "Str0ng!Passw0rd", "10.0.0.1"); d.Allow {
		t.Fatal("login with a foreign domain accepted")
	}
	if d := try(v, "max.mueller", "wrong", "10.0.0.1"); d.Allow || d.Rule != policy.AuthFailed {
		t.Fatalf("wrong password: %s", d)
	}
	if d := try(v, "nobody.here", "Str0ng!Passw0rd", "10.0.0.1"); d.Allow || d.Rule != policy.AuthFailed {
		t.Fatalf("unknown account: %s", d)
	}
	st.UpdateAccount("max.mueller", func(a *store.Account) error { a.Locked, a.LockReason = true, "Test"; return nil })
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.1"); d.Rule != policy.AccountLocked {
		t.Fatalf("locked account: %s", d)
	}
	st.UpdateAccount("max.mueller", func(a *store.Account) error { a.Locked, a.MustChange = false, true; return nil })
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.1"); d.Rule != policy.PWMustChange {
		t.Fatalf("must-change account: %s", d)
	}
	_, d := v.Verify(context.Background(), Attempt{Name: "max.mueller", Password: "Str0ng!Passw0rd", Protocol: "web",
		IP: "10.0.0.1", Service: policy.ServiceWeb, Purpose: policy.PurposeChangePassword})
	if !d.Allow {
		t.Fatalf("must-change account may change its password: %s", d)
	}

	v.Flush()
	recs, _ := st.LoginLog("", time.Time{})
	if len(recs) != 8 {
		t.Fatalf("%d login records, want 8", len(recs))
	}
	last := recs[len(recs)-2]
	if last.Account != "max.mueller" || last.Protocol != "imap" || last.IP != "10.0.0.1" || last.OK || last.Rule != "PW-MUST-CHANGE" {
		t.Errorf("record %+v", last)
	}
	a, _ := st.Account("max.mueller")
	if a.LastLoginIP != "10.0.0.1" || a.LastLoginAt.IsZero() {
		t.Errorf("last login not recorded: %+v", a)
	}
}

func TestThrottle(t *testing.T) {
	v, _, c := setup(t)
	for i := 0; i < 5; i++ {
		if d := try(v, "max.mueller", "guess", "10.0.0.9"); d.Rule != policy.AuthFailed {
			t.Fatalf("attempt %d: %s", i, d)
		}
	}
	// Out of tries: even the right password is not checked now.
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.8"); d.Rule != policy.AuthThrottle {
		t.Fatalf("6th attempt: %s", d)
	}
	c.t = c.t.Add(13 * time.Second) // one token back (5 a minute)
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.8"); !d.Allow {
		t.Fatalf("after waiting: %s", d)
	}
	// Per address: 30 failures over many names lock the address out.
	for i := 0; i < 30; i++ {
		try(v, "user.n"+string(rune('a'+i)), "x", "10.0.0.66")
	}
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.66"); d.Rule != policy.AuthThrottle {
		t.Fatalf("address after 30 failures: %s", d)
	}
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.67"); !d.Allow {
		t.Fatalf("other address: %s", d)
	}
}

func TestCacheInvalidatedByPasswordChange(t *testing.T) {
	v, st, _ := setup(t)
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.1"); !d.Allow {
		t.Fatal(d)
	}
	if !v.cached("max.mueller", "Str0ng!Passw0rd", mustHash(t, st), v.opt.Now()) {
		t.Fatal("successful verification not cached")
	}
	if v.cached("max.mueller", "Str0ng!Passw0rD", mustHash(t, st), v.opt.Now()) {
		t.Fatal("cache accepted another password")
	}
	h, _ := HashPassword("N3w!Password", UserParams)
	st.UpdateAccount("max.mueller", func(a *store.Account) error { a.PasswordHash = h; return nil })
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.1"); d.Allow {
		t.Fatal("old password accepted from cache after a change")
	}
	if d := try(v, "max.mueller", "N3w!Password", "10.0.0.1"); !d.Allow {
		t.Fatalf("new password: %s", d)
	}
	// A lock is checked on every login, cached or not.
	st.UpdateAccount("max.mueller", func(a *store.Account) error { a.Locked = true; return nil })
	if d := try(v, "max.mueller", "N3w!Password", "10.0.0.1"); d.Rule != policy.AccountLocked {
		t.Fatalf("locked, cached: %s", d)
	}
}

func mustHash(t *testing.T, st *store.Store) string {
	a, err := st.Account("max.mueller")
	if err != nil {
		t.Fatal(err)
	}
	return a.PasswordHash
}

func BenchmarkVerifyArgon2id(b *testing.B) {
	h, _ := HashPassword("Str0ng!Passw0rd", UserParams)
	b.ResetTimer()
	for b.Loop() {
		if ok, _ := CheckPassword("Str0ng!Passw0rd", h); !ok {
			b.Fatal("refused")
		}
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	st, _ := store.Open(b.TempDir(), store.Options{})
	defer st.Close()
	h, _ := HashPassword("Str0ng!Passw0rd", UserParams)
	st.CreateAccount(store.Account{First: "Max", Last: "Müller", PasswordHash: h, ConsentPlatform: true, ConsentComms: true},
		func(int) string { return "max.mueller" })
	v := New(st, Options{Domain: "schule.test", CacheTTL: time.Hour, FailuresPerAccount: 5, FailuresPerIP: 30,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer v.Close()
	v.Verify(context.Background(), Attempt{Name: "max.mueller", Password: "Str0ng!Passw0rd", Protocol: "imap", IP: "127.0.0.1", Service: policy.ServiceMail})
	b.ResetTimer()
	for b.Loop() {
		if _, d := v.Verify(context.Background(), Attempt{Name: "max.mueller", Password: "Str0ng!Passw0rd", Protocol: "imap", IP: "127.0.0.1", Service: policy.ServiceMail}); !d.Allow {
			b.Fatal(d)
		}
	}
}

func BenchmarkVerifyOneTimeHash(b *testing.B) {
	h, _ := HashPassword("Kp7w-Rm4z-Xa9d", OneTimeParams)
	for b.Loop() {
		CheckPassword("Kp7w-Rm4z-Xa9d", h)
	}
}

func TestChangePassword(t *testing.T) {
	v, st, _ := setup(t)
	st.UpdateAccount("max.mueller", func(a *store.Account) error { a.MustChange = true; return nil })
	at := Attempt{Name: "max.mueller", Password: "Str0ng!Passw0rd", Protocol: "web", IP: "10.0.0.1", Service: policy.ServiceWeb}
	if d := v.ChangePassword(context.Background(), at, "schwach"); d.Rule != policy.PWStrength {
		t.Fatalf("weak new password: %s", d)
	}
	if d := v.ChangePassword(context.Background(), at, "Str0ng!Passw0rd"); d.Allow {
		t.Fatal("same password accepted")
	}
	if d := v.ChangePassword(context.Background(), at, "mueller#Max99"); d.Allow {
		t.Fatal("password with own name accepted")
	}
	wrong := at
	wrong.Password = "falsch"
	if d := v.ChangePassword(context.Background(), wrong, "Blume#Wiese77"); d.Rule != policy.AuthFailed {
		t.Fatalf("wrong current password: %s", d)
	}
	if d := v.ChangePassword(context.Background(), at, "Blume#Wiese77"); !d.Allow {
		t.Fatalf("change: %s", d)
	}
	a, _ := st.Account("max.mueller")
	if a.MustChange {
		t.Fatal("must-change not cleared")
	}
	if d := try(v, "max.mueller", "Blume#Wiese77", "10.0.0.1"); !d.Allow {
		t.Fatalf("new password: %s", d)
	}
	if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.1"); d.Allow {
		t.Fatal("old password still works")
	}
}

// TestThrottleConcurrent: of 40 wrong passwords sent at once, exactly the
// limit are checked (the token is taken before the hash); the rest are
// throttled. The same holds for the per-address bucket over many names.
func TestThrottleConcurrent(t *testing.T) {
	v, _, _ := setup(t)
	count := func(names func(i int) string, ip string) map[policy.Rule]int {
		var mu sync.Mutex
		got := map[policy.Rule]int{}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				d := try(v, names(i), "falsch", ip)
				mu.Lock()
				got[d.Rule]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return got
	}
	got := count(func(int) string { return "max.mueller" }, "10.0.0.20")
	if got[policy.AuthFailed] != 5 || got[policy.AuthThrottle] != 35 {
		t.Errorf("one account: %v, want 5 checked and 35 throttled", got)
	}
	got = count(func(i int) string { return fmt.Sprintf("gast.%d", i) }, "10.0.0.21")
	if got[policy.AuthFailed] != 30 || got[policy.AuthThrottle] != 10 {
		t.Errorf("one address: %v, want 30 checked and 10 throttled", got)
	}
}

// TestRightPasswordIsNoFailure: right passwords give their token back,
// so a client logging in often is never throttled.
func TestRightPasswordIsNoFailure(t *testing.T) {
	v, _, _ := setup(t)
	v.opt.CacheTTL = 0 // every login hashes
	for i := range 8 {
		if d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.30"); !d.Allow {
			t.Fatalf("login %d: %s", i, d)
		}
	}
	for i := range 5 {
		if d := try(v, "max.mueller", "falsch", "10.0.0.30"); d.Rule != policy.AuthFailed {
			t.Fatalf("guess %d: %s", i, d)
		}
	}
	if d := try(v, "max.mueller", "falsch", "10.0.0.30"); d.Rule != policy.AuthThrottle {
		t.Fatalf("6th guess: %s", d)
	}
}

// TestLongLoginNameNotCut: a login name longer than any account name is
// not cut down to one that exists.
func TestLongLoginNameNotCut(t *testing.T) {
	v, st, _ := setup(t)
	long := strings.Repeat("a", 60) + "." + strings.Repeat("b", 67) // 128 bytes
	h, _ := HashPassword("Str0ng!Passw0rd", UserParams)
	if _, err := st.CreateAccount(store.Account{First: "A", Last: "B", Role: "student", PasswordHash: h,
		ConsentPlatform: true, ConsentComms: true}, func(int) string { return long }); err != nil {
		t.Fatal(err)
	}
	if d := try(v, long+"x", "Str0ng!Passw0rd", "10.0.0.40"); d.Allow {
		t.Fatal("a longer login name was cut to an existing account")
	}
}

// TestConcurrentRightPasswords: a client (or a class behind one address)
// opening many connections at once with the right password is slowed by
// the tokens in flight, never refused: waiting checks take the tokens the
// right ones give back.
func TestConcurrentRightPasswords(t *testing.T) {
	for _, ttl := range []time.Duration{0, time.Minute} {
		v, _, _ := setup(t)
		v.opt.CacheTTL = ttl
		var mu sync.Mutex
		got := map[policy.Rule]int{}
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				d := try(v, "max.mueller", "Str0ng!Passw0rd", "10.0.0.50")
				mu.Lock()
				got[d.Rule]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if got[policy.AuthThrottle] != 0 || got[policy.AuthFailed] != 0 {
			t.Errorf("cache %v: %v, want all 30 logged in", ttl, got)
		}
	}
}

// TestRefusedNamesAddNoBuckets: a throttled address trying random names
// leaves no state per name behind (the map would grow without bound).
func TestRefusedNamesAddNoBuckets(t *testing.T) {
	v, _, _ := setup(t)
	for i := range 30 {
		try(v, fmt.Sprintf("gast.%d", i), "x", "10.0.0.70")
	}
	v.mu.Lock()
	before := len(v.throttle)
	v.mu.Unlock()
	for i := range 1000 {
		if d := try(v, fmt.Sprintf("zufall.%d", i), "x", "10.0.0.70"); d.Rule != policy.AuthThrottle {
			t.Fatalf("attempt %d: %s", i, d)
		}
	}
	v.mu.Lock()
	after := len(v.throttle)
	v.mu.Unlock()
	if after != before {
		t.Fatalf("throttle buckets grew from %d to %d on refused attempts", before, after)
	}
}
