package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkBackupLarge measures backups of a data directory of 10,000
// messages and 2 GiB of files (SCHULHOF_BENCH_MESSAGES and
// SCHULHOF_BENCH_FILE_MIB change that) against tar of the same directory:
//
//	go test -run '^$' -bench BenchmarkBackupLarge -benchtime 1x ./store
//
// The data is generated through the store's own APIs into $TMPDIR and
// deleted afterwards. tar is the peer for speed only: it neither syncs nor
// reads a consistent snapshot of a running server; "tar+sync" adds the
// fsync of its archive.
func BenchmarkBackupLarge(b *testing.B) {
	messages := envInt("SCHULHOF_BENCH_MESSAGES", 10_000)
	fileMiB := envInt("SCHULHOF_BENCH_FILE_MIB", 2048)
	root, err := os.MkdirTemp("", "schulhof-backup-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(root) })
	data := filepath.Join(root, "data")
	s, err := Open(data, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	g := &benchGen{s: s, b: b}
	g.accounts(100)
	g.mail(messages)
	g.files(int64(fileMiB) << 20)
	du := dirBytes(b, data)
	b.Logf("generated %d messages and %d MiB of files in %v: data directory %d MiB",
		messages, fileMiB, time.Since(start).Round(time.Second), du>>20)

	b.Run("full", func(b *testing.B) {
		b.SetBytes(du)
		for i := 0; i < b.N; i++ {
			dir := filepath.Join(root, "full")
			if _, err := s.Backup(dir, BackupOptions{Full: true}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			os.RemoveAll(dir)
			b.StartTimer()
		}
	})
	for _, raw := range []bool{false, true} {
		name := "incremental"
		if raw {
			name = "incremental-raw" // the database page by page
		}
		b.Run(name, func(b *testing.B) { g.incremental(b, s, filepath.Join(root, "inc"), du, raw) })
	}
	for _, sync := range []bool{false, true} {
		name := "tar"
		if sync {
			name = "tar+sync"
		}
		b.Run(name, func(b *testing.B) {
			if _, err := exec.LookPath("tar"); err != nil {
				b.Skip("no tar")
			}
			b.SetBytes(du)
			out := filepath.Join(root, "data.tar")
			for i := 0; i < b.N; i++ {
				if o, err := exec.Command("tar", "-cf", out, "-C", data, ".").CombinedOutput(); err != nil {
					b.Fatalf("tar: %v %s", err, o)
				}
				if sync {
					if o, err := exec.Command("sync", out).CombinedOutput(); err != nil {
						b.Fatalf("sync: %v %s", err, o)
					}
				}
				b.StopTimer()
				os.Remove(out)
				b.StartTimer()
			}
		})
	}
}

// incremental takes a first backup into dir (not timed), then after each
// "school day" of changes the timed incremental one.
func (g *benchGen) incremental(b *testing.B, s *Store, dir string, du int64, raw bool) {
	defer os.RemoveAll(dir)
	if _, err := s.Backup(dir, BackupOptions{Raw: raw}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(du)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		g.mail(100) // a school day: 100 new messages, 20 MiB of new files
		g.files(20 << 20)
		b.StartTimer()
		r, err := s.Backup(dir, BackupOptions{Raw: raw})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Manifest.Bytes.Copied)/(1<<20), "MiB-copied/op")
		b.ReportMetric(float64(r.Manifest.Bytes.DB)/(1<<20), "MiB-db/op")
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

func dirBytes(b *testing.B, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// benchGen fills a store fast: parallel writers share commits.
type benchGen struct {
	s     *Store
	b     *testing.B
	names []string
	mu    sync.Mutex
	n     int // files and messages made so far (unique content)
}

func (g *benchGen) next() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return g.n
}

func (g *benchGen) accounts(n int) {
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("schueler.%03d", i)
		if _, err := g.s.CreateAccount(Account{First: "S", Last: strconv.Itoa(i), Role: "student"}, func(int) string { return name }); err != nil {
			g.b.Fatal(err)
		}
		g.names = append(g.names, name)
	}
}

// parallel runs fn(i) for i < n on 16 workers.
func (g *benchGen) parallel(n int, fn func(i int, rng *rand.Rand)) {
	var wg sync.WaitGroup
	work := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g.next()), 7))
			for i := range work {
				fn(i, rng)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
}

func randomText(rng *rand.Rand, size int) []byte {
	const letters = "abcdefghijklmnopqrstuvwxyz      "
	out := make([]byte, size)
	for i := range out {
		out[i] = letters[rng.IntN(len(letters))]
		if i%76 == 75 {
			out[i] = '\n'
		}
	}
	return out
}

// mail delivers n messages: four in five small (inline), the rest 50 to
// 250 KiB (blob files), each to one account.
func (g *benchGen) mail(n int) {
	g.parallel(n, func(i int, rng *rand.Rand) {
		size := 2<<10 + rng.IntN(6<<10)
		if i%5 == 0 {
			size = 50<<10 + rng.IntN(200<<10)
		}
		body := fmt.Sprintf("From: a@schule.test\r\nSubject: Nachricht %d\r\n\r\n%s", g.next(), randomText(rng, size))
		pb, err := g.s.WriteContent(bytes.NewReader([]byte(body)), -1)
		if err != nil {
			g.b.Fatal(err)
		}
		defer pb.Release()
		to := g.names[rng.IntN(len(g.names))]
		if _, err := g.s.Deliver(Delivery{NewMessage: NewMessage{Blob: pb, Meta: []byte("{}")}, Recipients: []string{to}}); err != nil {
			g.b.Fatal(err)
		}
	})
}

// files writes total bytes of files of 1 to 3 MiB into home folders.
func (g *benchGen) files(total int64) {
	var sizes []int
	rng := rand.New(rand.NewPCG(uint64(g.next()), 9))
	for left := total; left > 0; {
		sz := int64(1<<20 + rng.IntN(2<<20))
		sz = min(sz, left)
		sizes = append(sizes, int(sz))
		left -= sz
	}
	g.parallel(len(sizes), func(i int, rng *rand.Rand) {
		buf := make([]byte, sizes[i])
		for j := 0; j+8 <= len(buf); j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				buf[j+k] = byte(v >> (8 * k))
			}
		}
		pb, err := g.s.WriteContent(bytes.NewReader(buf), -1)
		if err != nil {
			g.b.Fatal(err)
		}
		defer pb.Release()
		acct := g.names[i%len(g.names)]
		if _, _, err := g.s.FilePut(HomeTree(acct), fmt.Sprintf("/datei-%d.bin", g.next()),
			PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, ModTime: time.Now(), Limits: NoLimits()}); err != nil {
			g.b.Fatal(err)
		}
	})
}
