package tlsutil

import (
	"os"
	"syscall"
	"time"
)

// fileStamp tells whether a file changed without reading it. os.Stat
// follows symlinks, so a symlink pointed at a new file (certbot's live/
// folder) changes the inode even when size and time happen to match.
type fileStamp struct {
	ok    bool
	size  int64
	mtime time.Time
	ino   uint64
	dev   uint64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	s := fileStamp{ok: true, size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino, s.dev = uint64(st.Ino), uint64(st.Dev)
	}
	return s
}

func stampsOf(cert, key string) [2]fileStamp { return [2]fileStamp{stampOf(cert), stampOf(key)} }
