package bbolt

import (
	"os"
	"syscall"
)

// fdatasyncFile flushes f's data (not its times) to disk.
func fdatasyncFile(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
