package davd

// Benchmarks of the WebDAV server. By default they run against an
// in-process server on a random loopback port over TLS (as the HTTPS
// listener serves it). With DAV_BENCH_URL set they run the same load
// against another server, e.g. Apache mod_dav over TLS from
// /work/shared/peers (certificates are not verified: loopback only):
//
//	go test ./davd -run '^$' -bench . -benchtime 20x
//	DAV_BENCH_URL=https://127.0.0.1:10443/dav/ DAV_BENCH_USER=testuser DAV_BENCH_PASS=pass \
//	DAV_BENCH_PROC=apache2 go test ./davd -run '^$' -bench . -benchtime 20x
//
// On a shared machine compare interleaved, in short runs, and take the
// median ratio (PutSmallDistinct: every file new content):
//
//	go test -c -o /tmp/dav.test ./davd && cd davd && for i in $(seq 12); do
//	  /tmp/dav.test -test.run '^$' -test.bench PutSmall -test.benchtime 300x | grep Bench
//	  DAV_BENCH_URL=https://127.0.0.1:10443/dav/ DAV_BENCH_USER=testuser DAV_BENCH_PASS=pass \
//	  /tmp/dav.test -test.run '^$' -test.bench PutSmall -test.benchtime 300x | grep Bench
//	done
//
// DAV_BENCH_PROC names the server's processes whose resident memory is
// sampled for the peak-memory benchmark (default: this test process).

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"schulhof/policy"
)

type benchTarget struct {
	base, user, pass string
	client           *http.Client
}

func newBenchTarget(b *testing.B) *benchTarget {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	t := &benchTarget{client: &http.Client{Transport: tr}}
	if u := os.Getenv("DAV_BENCH_URL"); u != "" {
		t.base, t.user, t.pass = strings.TrimSuffix(u, "/")+"/", os.Getenv("DAV_BENCH_USER"), os.Getenv("DAV_BENCH_PASS")
	} else {
		e := newEnv(b)
		t.user, t.pass = e.user(b, "Bench", "Mark", policy.Teacher), testPassword
		srv := httptest.NewTLSServer(e.srv.Config.Handler)
		b.Cleanup(srv.Close)
		t.base = srv.URL + "/dav/home/"
	}
	dir := fmt.Sprintf("bench-%d/", time.Now().UnixNano())
	t.base += dir
	if code := t.do(b, "MKCOL", "", nil, -1); code != 201 {
		b.Fatalf("MKCOL %s: %d", t.base, code)
	}
	b.Cleanup(func() { t.do(b, "DELETE", "", nil, -1) })
	return t
}

// do sends a request and drains the answer; n is the Content-Length of
// body (-1: none or chunked).
func (t *benchTarget) do(b *testing.B, method, name string, body io.Reader, n int64, hdr ...string) int {
	req, err := http.NewRequest(method, t.base+name, body)
	if err != nil {
		b.Fatal(err)
	}
	if body != nil {
		req.ContentLength = n
	}
	req.SetBasicAuth(t.user, t.pass)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := t.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (t *benchTarget) put(b *testing.B, name string, n int64) {
	if code := t.do(b, "PUT", name, io.NopCloser(&pattern{n: n}), n); code/100 != 2 {
		b.Fatalf("PUT %s: %d", name, code)
	}
}

const tenMB = 10 << 20

func BenchmarkPut10MB(b *testing.B) {
	t := newBenchTarget(b)
	b.SetBytes(tenMB)
	b.ResetTimer()
	for i := range b.N {
		t.put(b, "f"+strconv.Itoa(i%4)+".bin", tenMB)
	}
}

func BenchmarkGet10MB(b *testing.B) {
	t := newBenchTarget(b)
	t.put(b, "f.bin", tenMB)
	b.SetBytes(tenMB)
	b.ResetTimer()
	for range b.N {
		if code := t.do(b, "GET", "f.bin", nil, -1); code != 200 {
			b.Fatalf("GET: %d", code)
		}
	}
}

func reportOps(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkPutSmall(b *testing.B) {
	t := newBenchTarget(b)
	b.ResetTimer()
	for i := range b.N {
		t.put(b, "s"+strconv.Itoa(i)+".txt", 4096)
	}
	reportOps(b)
}

// BenchmarkPutSmallDistinct is BenchmarkPutSmall with new content in
// every file, as real uploads are: BenchmarkPutSmall repeats one content,
// which the store keeps once (content-addressed), so its commits write
// about a fifth of the pages (store.BenchmarkFilePutSmall).
func BenchmarkPutSmallDistinct(b *testing.B) {
	t := newBenchTarget(b)
	b.ResetTimer()
	for i := range b.N {
		if code := t.do(b, "PUT", "d"+strconv.Itoa(i)+".txt", distinct4K(int64(i)), 4096); code/100 != 2 {
			b.Fatalf("PUT: %d", code)
		}
	}
	reportOps(b)
}

// distinct4K is 4 KiB of content of its own for the i'th file.
func distinct4K(i int64) io.ReadCloser {
	return io.NopCloser(io.MultiReader(strings.NewReader(fmt.Sprintf("%08d", i)), &pattern{n: 4096 - 8}))
}

// BenchmarkPutSmallDistinctClients is BenchmarkPutSmallDistinct with
// eight clients at once, as a class saving its work at the end of a
// lesson: the store's group commit lets concurrent PUTs share one log
// sync, so the server's CPU per PUT sets the pace, not the disk.
func BenchmarkPutSmallDistinctClients(b *testing.B) {
	const clients = 8
	t := newBenchTarget(b)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if code := t.do(b, "PUT", "c"+strconv.FormatInt(i, 10)+".txt", distinct4K(i), 4096); code/100 != 2 {
					b.Errorf("PUT: %d", code)
					return
				}
			}
		}()
	}
	wg.Wait()
	reportOps(b)
}

const propfindBody = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`

// BenchmarkPropfind100 lists a folder of 100 small files (Depth 1).
func BenchmarkPropfind100(b *testing.B) {
	t := newBenchTarget(b)
	for i := range 100 {
		t.put(b, "p"+strconv.Itoa(i)+".txt", 1024)
	}
	b.ResetTimer()
	for range b.N {
		if code := t.do(b, "PROPFIND", "", strings.NewReader(propfindBody), int64(len(propfindBody)), "Depth", "1"); code != 207 {
			b.Fatalf("PROPFIND: %d", code)
		}
	}
	reportOps(b)
}

// BenchmarkPropfindFile asks for one small file's properties (Depth 0).
func BenchmarkPropfindFile(b *testing.B) {
	t := newBenchTarget(b)
	t.put(b, "one.txt", 1024)
	b.ResetTimer()
	for range b.N {
		if code := t.do(b, "PROPFIND", "one.txt", strings.NewReader(propfindBody), int64(len(propfindBody)), "Depth", "0"); code != 207 {
			b.Fatalf("PROPFIND: %d", code)
		}
	}
	reportOps(b)
}

// BenchmarkTenConcurrent20MB uploads ten 20 MiB files at once and reports
// the server's peak resident memory above its level before the uploads.
func BenchmarkTenConcurrent20MB(b *testing.B) {
	t := newBenchTarget(b)
	proc := os.Getenv("DAV_BENCH_PROC")
	base := rss(proc)
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			if r := rss(proc); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	b.SetBytes(10 * limit20)
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for j := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.put(b, "c"+strconv.Itoa(j)+".bin", limit20)
			}()
		}
		wg.Wait()
	}
	b.StopTimer()
	close(stop)
	sampler.Wait()
	b.ReportMetric(float64(peak.Load()-base)/(1<<20), "peak-rss-MB")
}

// rss sums the resident memory (bytes) of the processes named proc, or of
// this process when proc is empty.
func rss(proc string) int64 {
	if proc == "" {
		return vmRSS("/proc/self/status")
	}
	var sum int64
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		comm, err := os.ReadFile(filepath.Join(d, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != proc {
			continue
		}
		sum += vmRSS(filepath.Join(d, "status"))
	}
	return sum
}

func vmRSS(status string) int64 {
	raw, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
