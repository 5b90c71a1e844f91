package store

import (
	"bytes"
	"io"
	"time"
)

// memSink is an ExportSink in memory, for the export tests of the domains.
type memSink map[string]*bytes.Buffer

func (m memSink) Create(path string, _ time.Time) (io.Writer, error) {
	b := &bytes.Buffer{}
	m[path] = b
	return b, nil
}
