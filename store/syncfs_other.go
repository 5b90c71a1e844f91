//go:build !linux

package store

// haveSyncFS is false: every file and folder is fsynced on its own.
const haveSyncFS = false

func syncFS(dir string) error { return syncDir(dir) }
