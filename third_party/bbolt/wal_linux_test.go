package bbolt

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSyncFloor is what the disk alone charges a commit: one
// O_DIRECT|O_DSYNC write of a record's size over preallocated blocks, as
// the log does, with nothing else around it. A durable 4 KiB WebDAV PUT
// cannot answer sooner than this; a server that does not sync (Apache
// mod_dav) does not pay it. The "idle" runs rest 300 µs (untimed) between
// writes, as a server does between the requests of one client: on a
// virtual machine the disk then answers markedly later than back to back.
// WALBENCH_DIR puts the file elsewhere than the temporary folder (e.g.
// the data folder's disk).
//
//	go test go.etcd.io/bbolt -run '^$' -bench SyncFloor -benchtime 2000x
func BenchmarkSyncFloor(b *testing.B) {
	dir := os.Getenv("WALBENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	for _, c := range []struct {
		size int
		idle time.Duration
	}{{4 << 10, 0}, {64 << 10, 0}, {4 << 10, 300 * time.Microsecond}, {64 << 10, 300 * time.Microsecond}} {
		size, name := c.size, fmt.Sprint(c.size>>10, "KiB")
		if c.idle > 0 {
			name += "-idle"
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(dir, "syncfloor")
			defer os.Remove(path)
			const span = 32 << 20
			if err := os.WriteFile(path, make([]byte, span), 0o600); err != nil {
				b.Fatal(err)
			}
			f := openDirect(path)
			if f == nil {
				b.Skip("no direct I/O here")
			}
			defer f.Close()
			buf := alignedBuffer(size)[:size]
			for i := range buf {
				buf[i] = byte(i)
			}
			b.ResetTimer()
			var off int64
			for range b.N {
				if _, err := f.WriteAt(buf, off); err != nil {
					b.Fatal(err)
				}
				if off += int64(size); off+int64(size) > span {
					off = 0
				}
				if c.idle > 0 {
					b.StopTimer()
					time.Sleep(c.idle)
					b.StartTimer()
				}
			}
		})
	}
}
