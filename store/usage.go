package store

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DiskSpace is the size of the data directory and the room left on its file
// system.
type DiskSpace struct {
	DataBytes  int64  // schulhof.db, blobs and everything else under the data directory
	FreeBytes  uint64 // available to an unprivileged process
	TotalBytes uint64
}

// DiskUsage measures dir; it works with or without a running server.
func DiskUsage(dir string) (DiskSpace, error) {
	var u DiskSpace
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return u, err
	}
	u.FreeBytes = st.Bavail * uint64(st.Bsize)
	u.TotalBytes = st.Blocks * uint64(st.Bsize)
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file removed meanwhile
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				u.DataBytes += fi.Size()
			}
		}
		return nil
	})
	return u, err
}

// Exists reports whether dir holds a Schulhof database.
func Exists(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "schulhof.db"))
	return err == nil && fi.Mode().IsRegular()
}
