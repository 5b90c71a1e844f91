package store

// Binary records of the file trees. Every request resolves its path one
// entry per level, so entries and tree records are decoded on every file
// operation; a compact binary form costs a fraction of JSON (no field
// names, no time parsing). A leading format byte leaves room for change.

import (
	"encoding/binary"
	"errors"
	"time"
)

const entryFormat = 1

var errBadRecord = errors.New("store: bad file record")

func encodeEntry(e *FileEntry) []byte {
	b := make([]byte, 0, 64+len(e.Name)+len(e.Hash)+len(e.ContentType)+len(e.Uploader))
	b = append(b, entryFormat)
	flags := uint64(0)
	if e.Dir {
		flags |= 1
	}
	for _, v := range []uint64{e.ID, e.Parent, flags} {
		b = binary.AppendUvarint(b, v)
	}
	for _, v := range []int64{e.Size, e.ModTime.Unix(), int64(e.ModTime.Nanosecond()),
		e.PropBytes, e.PropCount, e.Bytes, e.Entries, e.Height} {
		b = binary.AppendVarint(b, v)
	}
	// Uploader came later: a record that ends after ContentType has none.
	for _, s := range []string{e.Name, e.Hash, e.ContentType, e.Uploader} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeEntry(b []byte, e *FileEntry) error {
	if len(b) == 0 || b[0] != entryFormat {
		return errBadRecord
	}
	d := decoder{b: b[1:]}
	e.ID, e.Parent = d.uvarint(), d.uvarint()
	e.Dir = d.uvarint()&1 != 0
	e.Size = d.varint()
	sec, nsec := d.varint(), d.varint()
	e.ModTime = time.Unix(sec, nsec).UTC()
	e.PropBytes, e.PropCount = d.varint(), d.varint()
	e.Bytes, e.Entries, e.Height = d.varint(), d.varint(), d.varint()
	e.Name, e.Hash, e.ContentType = d.str(), d.str(), d.str()
	if len(d.b) > 0 {
		e.Uploader = d.str()
	}
	return d.err
}

func encodeTreeRec(r *treeRecord) []byte {
	b := []byte{entryFormat}
	b = binary.AppendUvarint(b, r.Root)
	b = binary.AppendVarint(b, r.Bytes)
	return binary.AppendVarint(b, r.Entries)
}

func decodeTreeRec(b []byte, r *treeRecord) error {
	if len(b) == 0 || b[0] != entryFormat {
		return errBadRecord
	}
	d := decoder{b: b[1:]}
	r.Root, r.Bytes, r.Entries = d.uvarint(), d.varint(), d.varint()
	return d.err
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errBadRecord, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = errBadRecord, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err, d.b = errBadRecord, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
