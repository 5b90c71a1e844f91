//go:build !linux

package bbolt

import "os"

// fdatasyncFile flushes f to disk.
func fdatasyncFile(f *os.File) error { return f.Sync() }

// openDirect: direct writes are used on Linux only.
func openDirect(string) *os.File { return nil }

func directRefused(error) bool { return false }
