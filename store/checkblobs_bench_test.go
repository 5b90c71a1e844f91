package store

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// BenchmarkCheckBlobs: schulhof doctor's blob check (hash every blob,
// recount every reference) on 256 files of 128 KiB.
//
//	go test -run x -bench BenchmarkCheckBlobs -benchtime 5x ./store
func BenchmarkCheckBlobs(b *testing.B) {
	s := openTest(b, b.TempDir())
	defer s.Close()
	if _, err := s.CreateAccount(Account{First: "A", Last: "B"}, func(int) string { return "a.b" }); err != nil {
		b.Fatal(err)
	}
	const n, size = 256, 128 << 10
	var total int64
	for i := 0; i < n; i++ {
		content := bytes.Repeat([]byte(fmt.Sprintf("%07d", i)), size/7)
		pb, err := s.WriteBlob(bytes.NewReader(content), -1)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.FilePut(HomeTree("a.b"), fmt.Sprintf("/f%d", i), PutFile{Blob: pb.Blob, Pending: true, ModTime: time.Now(), Limits: NoLimits()}); err != nil {
			b.Fatal(err)
		}
		pb.Release()
		total += int64(len(content))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.CheckBlobs()
		if err != nil || r.Files != n || len(r.Missing)+len(r.WrongHash)+len(r.Undercounted)+len(r.Overcounted) != 0 {
			b.Fatalf("%+v %v", r, err)
		}
	}
}
