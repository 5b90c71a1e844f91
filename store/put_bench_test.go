package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
	"time"
)

// BenchmarkFilePutSmall is the store's part of one 4 KiB WebDAV PUT of a
// new file: one commit of two fdatasyncs. "distinct" gives every file new
// content (as real uploads); "same" repeats one content, which is stored
// once (content-addressed), as davd's BenchmarkPutSmall does; "blob20k"
// is a 20 KiB file of new content, past InlineMax: a blob file with its
// own fsync and its folder's before the commit. Run under
//
//	strace -f --seccomp-bpf -T -e trace=fdatasync -o /tmp/s.txt \
//	  /tmp/store.test -test.run '^$' -test.bench FilePutSmall -test.benchtime 400x
//
// to split the time into the syncs and the rest.
func BenchmarkFilePutSmall(b *testing.B) {
	for _, c := range []struct {
		name     string
		size     int
		distinct bool
	}{{"distinct", 4096, true}, {"same", 4096, false}, {"blob20k", 20 << 10, true}} {
		distinct := c.distinct
		b.Run(c.name, func(b *testing.B) {
			s := openTest(b, b.TempDir())
			defer s.Close()
			content := bytes.Repeat([]byte("x"), c.size)
			b.ResetTimer()
			for i := range b.N {
				if distinct {
					binary.BigEndian.PutUint64(content, uint64(i))
				}
				pb, err := s.WriteContent(bytes.NewReader(content), -1)
				if err != nil {
					b.Fatal(err)
				}
				_, _, err = s.FilePut(HomeTree("bench"), fmt.Sprintf("/s%d.txt", i), PutFile{Blob: pb.Blob, Pending: true, Data: pb.Data, ModTime: time.Now(), Limits: NoLimits()})
				pb.Release()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
