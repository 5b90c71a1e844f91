package bbolt

import (
	"errors"
	"os"
	"syscall"
)

// fdatasyncFile flushes f's data (not its times) to disk.
func fdatasyncFile(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// openDirect opens the log again for writes that bypass the page cache and
// return once they are on disk (O_DIRECT|O_DSYNC): one system call per
// commit instead of a write and an fdatasync, and no copy into the page
// cache. nil where the file system refuses direct I/O; one that opens but
// refuses the writes is caught by directRefused.
func openDirect(path string) *os.File {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_DIRECT|syscall.O_DSYNC, 0)
	if err != nil {
		return nil
	}
	return f
}

// directRefused reports a direct write that the file system refuses as
// such (EINVAL: alignment it does not take), not as a failure of the disk.
func directRefused(err error) bool { return errors.Is(err, syscall.EINVAL) }
