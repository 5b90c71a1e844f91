package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkMoveDeep moves a folder of 5,000 files into a path 40 folders
// deep and back (within the home tree, or into a group folder's deep
// path) while another account PUTs small files; it reports the time of
// one MOVE and how long those PUTs took (put-max-ms, put-p50-ms): a MOVE
// must not hold the write lock for more than a short moment.
//
//	go test ./store -run '^$' -bench MoveDeep -benchtime 20x
func BenchmarkMoveDeep(b *testing.B) {
	b.Run("within-tree", func(b *testing.B) { benchMoveDeep(b, false) })
	b.Run("across-trees", func(b *testing.B) { benchMoveDeep(b, true) })
}

func benchMoveDeep(b *testing.B, across bool) {
	const files, depth = 5000, 40
	s := openTest(b, b.TempDir())
	defer s.Close()
	home, other := HomeTree("mover"), HomeTree("other")
	dstTree := home
	if across {
		dstTree = GroupTree("5a")
	}
	now := time.Now()
	s.db.NoSync = true // setup only
	if err := s.FileMkdir(home, "/big", now, NoLimits()); err != nil {
		b.Fatal(err)
	}
	for i := range files {
		if err := benchPut(s, home, fmt.Sprintf("/big/file-%05d.txt", i)); err != nil {
			b.Fatal(err)
		}
	}
	deep := ""
	for i := range depth {
		deep += fmt.Sprintf("/level-%02d", i)
		if err := s.FileMkdir(dstTree, deep, now, NoLimits()); err != nil {
			b.Fatal(err)
		}
	}
	s.db.NoSync = false

	stop := make(chan struct{})
	var waits []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			if err := benchPut(s, other, fmt.Sprintf("/p%d.txt", i%50)); err != nil {
				b.Error(err)
				return
			}
			waits = append(waits, time.Since(start))
		}
	}()
	b.ResetTimer()
	for range b.N {
		if err := benchMove(s, home, "/big", dstTree, deep+"/big"); err != nil {
			b.Fatal(err)
		}
		if err := benchMove(s, dstTree, deep+"/big", home, "/big"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N)/1e6, "ms/move")
	if len(waits) > 0 {
		slices.Sort(waits)
		b.ReportMetric(float64(waits[len(waits)-1].Microseconds())/1000, "put-max-ms")
		b.ReportMetric(float64(waits[len(waits)/2].Microseconds())/1000, "put-p50-ms")
	}
}

func benchPut(s *Store, tr Tree, p string) error {
	pb, err := s.WriteBlob(strings.NewReader("x"), -1)
	if err != nil {
		return err
	}
	defer pb.Release()
	_, _, err = s.FilePut(tr, p, PutFile{Blob: pb.Blob, Pending: true, ModTime: time.Now(), Limits: NoLimits()})
	return err
}

func benchMove(s *Store, srcTree Tree, src string, dstTree Tree, dst string) error {
	return s.FileMove(srcTree, src, dstTree, dst, NoLimits(), false)
}
