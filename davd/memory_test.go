package davd

import (
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"schulhof/policy"
)

// TestTenConcurrentUploadsMemory: ten 20 MiB uploads at once (five with
// Content-Length, five chunked) must not hold the files in memory. The Go
// heap of the whole process (server and client) is sampled while they run.
func TestTenConcurrentUploadsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200 MiB")
	}
	e := newEnv(t)
	u := e.user(t, "Viel", "Hoch", policy.Student)
	if r, _ := e.do(t, u, "PROPFIND", "/dav/home/", nil, "Depth", "0"); r.StatusCode != 207 {
		t.Fatalf("login: %d", r.StatusCode)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = e.put(t, u, "/dav/home/big"+string(rune('0'+i))+".bin", limit20, i%2 == 1)
		}()
	}
	wg.Wait()
	close(stop)
	sampler.Wait()
	for i, c := range codes {
		if c != http.StatusCreated {
			t.Errorf("upload %d: %d", i, c)
		}
	}
	grown := int64(peak.Load()) - int64(base)
	t.Logf("heap in use grew by %.1f MiB at most", float64(grown)/(1<<20))
	if grown > 64<<20 {
		t.Fatalf("heap grew by %d MiB during ten 20 MiB uploads", grown>>20)
	}
}
