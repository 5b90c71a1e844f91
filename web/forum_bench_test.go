package web

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"schulhof/policy"
	"schulhof/store"
)

// BenchmarkForumPages measures the forum's two busiest pages through the
// portal (session, module switch, read scope, store, template) for a
// school of 3,000 pupils: 100 groups of 30 with a teacher each, 50
// threads per group forum with 8 posts each (40,000 posts). It reports
// p50 and p99 of the thread list (page 1 of a group's forum) and of a
// thread page (a random thread of that group; the first visit also
// writes the read mark). Run:
//
//	go test -run '^$' -bench BenchmarkForumPages -benchtime 1x ./web
//
// FORUM_BENCH_REQUESTS sets the requests per page (default 2000).
func BenchmarkForumPages(b *testing.B) {
	const groups, pupils, threads, posts = 100, 30, 50, 8
	e := newPortalEnv(b, nil)
	start := time.Now()
	for g := 0; g < groups; g++ {
		name := fmt.Sprintf("k%02d", g)
		var members []string
		for p := 0; p < pupils; p++ {
			a, err := e.st.CreateAccount(store.Account{First: "P", Last: name, Role: string(policy.Student), PasswordHash: "x", ConsentPlatform: true},
				func(n int) string { return fmt.Sprintf("p%d.%s%d", p, name, n) })
			if err != nil {
				b.Fatal(err)
			}
			members = append(members, a.Name)
		}
		slices.Sort(members)
		if err := e.st.CreateGroup(store.Group{Name: name, Kind: "class", Members: members}); err != nil {
			b.Fatal(err)
		}
	}
	// One logged-in pupil per group (real password, real session).
	readers := make([]*browser, groups)
	for g := range readers {
		readers[g] = e.browser()
		readers[g].mustLogin(e.user("Leser", fmt.Sprintf("K%02d", g), policy.Student, false, fmt.Sprintf("k%02d", g)))
	}
	// Threads and replies, written concurrently (they share commits).
	ids := make([][]uint64, groups)
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 32)
	at := time.Now().Add(-30 * 24 * time.Hour)
	for g := 0; g < groups; g++ {
		for n := 0; n < threads; n++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(g, n int) {
				defer wg.Done()
				defer func() { <-sem }()
				forum := store.GroupForumID(fmt.Sprintf("k%02d", g))
				author := fmt.Sprintf("p%d.k%02d1", n%pupils, g)
				when := at.Add(time.Duration(g*threads+n) * time.Minute)
				th, first, err := e.st.NewThread(forum, author, fmt.Sprintf("Thema %d", n), "Eröffnung des Themas mit etwas Text.", when, nil)
				if err != nil {
					b.Error(err)
					return
				}
				for r := 1; r < posts; r++ {
					if _, err := e.st.Reply(forum, th.ID, fmt.Sprintf("p%d.k%02d1", (n+r)%pupils, g),
						"Eine Antwort mit ein paar Sätzen, wie sie im Unterricht vorkommt.", first.ID, when.Add(time.Duration(r)*time.Second), nil); err != nil {
						b.Error(err)
						return
					}
				}
				mu.Lock()
				ids[g] = append(ids[g], th.ID)
				mu.Unlock()
			}(g, n)
		}
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	b.Logf("seeded %d accounts, %d groups, %d threads, %d posts in %v", groups*(pupils+1), groups, groups*threads, groups*threads*posts, time.Since(start).Round(time.Millisecond))

	requests := 2000
	if v, err := strconv.Atoi(os.Getenv("FORUM_BENCH_REQUESTS")); err == nil && v > 0 {
		requests = v
	}
	rng := rand.New(rand.NewPCG(1, 2))
	measure := func(path func(g int) string) (p50, p99 time.Duration) {
		lat := make([]time.Duration, 0, requests)
		for i := 0; i < requests; i++ {
			g := rng.IntN(groups)
			t0 := time.Now()
			resp, _ := readers[g].do("GET", path(g), nil)
			lat = append(lat, time.Since(t0))
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %s", path(g), resp.Status)
			}
		}
		slices.Sort(lat)
		return lat[len(lat)/2], lat[(len(lat)*99+99)/100-1]
	}
	b.ResetTimer()
	for range b.N {
		l50, l99 := measure(func(g int) string { return fmt.Sprintf("/forum/g:k%02d", g) })
		t50, t99 := measure(func(g int) string {
			return fmt.Sprintf("/forum/g:k%02d/thema/%d", g, ids[g][rng.IntN(len(ids[g]))])
		})
		b.ReportMetric(float64(l50.Microseconds())/1000, "list-p50-ms")
		b.ReportMetric(float64(l99.Microseconds())/1000, "list-p99-ms")
		b.ReportMetric(float64(t50.Microseconds())/1000, "thread-p50-ms")
		b.ReportMetric(float64(t99.Microseconds())/1000, "thread-p99-ms")
	}
}
