//go:build !linux

package bbolt

import "os"

// fdatasyncFile flushes f to disk.
func fdatasyncFile(f *os.File) error { return f.Sync() }
