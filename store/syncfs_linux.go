//go:build linux

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// haveSyncFS: one syncfs(2) at the end of a backup or restore makes every
// file and folder written into it durable, instead of an fsync per file
// (thousands of blob files: the fsyncs cost more than the copying).
const haveSyncFS = true

// syncFS flushes the file system that holds dir: data and metadata of
// every file written there, and reports write-back errors (Linux ≥ 5.8).
func syncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return unix.Syncfs(int(d.Fd()))
}
