package store

// Dead properties of file tree entries, one bbolt key each (fileprops:
// entry id, then the first 16 bytes of the SHA-256 of the property's
// "{namespace}local" name, so a long name makes no long key). A PROPPATCH
// reads and writes only the properties it names; the entry keeps their
// number and bytes (PropCount, PropBytes) for the bounds and the quota.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
)

func propDBKey(id uint64, key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return append(u64(id), sum[:16]...)
}

// props reads an entry's dead properties (nil: none).
func (t *Tx) props(e *FileEntry) (map[string]DeadProp, error) {
	if e.PropCount == 0 && e.PropBytes == 0 {
		return nil, nil
	}
	m := map[string]DeadProp{}
	prefix := u64(e.ID)
	c := t.bucket(bucketFileProps).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var p DeadProp
		if err := json.Unmarshal(v, &p); err != nil {
			return nil, err
		}
		m[PropKey(p.Space, p.Local)] = p
	}
	return m, nil
}

func (t *Tx) withProps(e *FileEntry) (*FileEntry, error) {
	m, err := t.props(e)
	if err != nil {
		return nil, err
	}
	out := *e
	out.Props = m
	return &out, nil
}

// prop reads one property (nil: not set).
func (t *Tx) prop(id uint64, key string) (*DeadProp, error) {
	v := t.bucket(bucketFileProps).Get(propDBKey(id, key))
	if v == nil {
		return nil, nil
	}
	var p DeadProp
	if err := json.Unmarshal(v, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (t *Tx) putProp(id uint64, p DeadProp) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return t.bucket(bucketFileProps).Put(propDBKey(id, PropKey(p.Space, p.Local)), v)
}

// deleteProps drops all of an entry's properties.
func (t *Tx) deleteProps(e *FileEntry) error {
	if e.PropCount == 0 && e.PropBytes == 0 {
		return nil
	}
	b := t.bucket(bucketFileProps)
	prefix := u64(e.ID)
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := b.Delete(bytes.Clone(k)); err != nil {
			return err
		}
	}
	e.PropBytes, e.PropCount, e.Props = 0, 0, nil
	return nil
}

// setProps replaces all of an entry's properties (a new entry, a COPY,
// the migration); the caller writes the entry and moves the totals.
func (t *Tx) setProps(e *FileEntry, m map[string]DeadProp) error {
	if err := t.deleteProps(e); err != nil {
		return err
	}
	for _, p := range m {
		if err := t.putProp(e.ID, p); err != nil {
			return err
		}
		e.PropBytes += p.Bytes()
		e.PropCount++
	}
	if len(m) > 0 {
		e.Props = m
	}
	return nil
}

// checkProps refuses a whole set of properties over the bounds.
func checkProps(m map[string]DeadProp, lim FileLimits) error {
	if lim.Props >= 0 && int64(len(m)) > lim.Props {
		return &LimitError{LimitProps, int64(len(m))}
	}
	for _, p := range m {
		if lim.PropBytes >= 0 && p.Bytes() > lim.PropBytes {
			return &LimitError{LimitPropBytes, p.Bytes()}
		}
	}
	return nil
}

// FilePatchProps applies dead property changes to the entry at p in
// order (a set then a remove of one name leaves it removed), in one
// transaction that touches only the named properties. Their number and
// size are bounded by lim, their bytes count in the tree's quota; an
// entry already over a lowered bound may shrink but not grow.
func (s *Store) FilePatchProps(tr Tree, p string, ops []PropOp, lim FileLimits) error {
	return s.batch(func(t *Tx) error {
		c, e, err := t.lookup(tr, p, false)
		if err != nil {
			return err
		}
		count, size := e.PropCount, e.PropBytes
		for _, op := range ops {
			key := PropKey(op.Prop.Space, op.Prop.Local)
			old, err := t.prop(e.ID, key)
			if err != nil {
				return err
			}
			if old != nil {
				count--
				size -= old.Bytes()
			}
			if op.Remove {
				if old != nil {
					if err := t.bucket(bucketFileProps).Delete(propDBKey(e.ID, key)); err != nil {
						return err
					}
				}
				continue
			}
			if n := op.Prop.Bytes(); lim.PropBytes >= 0 && n > lim.PropBytes {
				return &LimitError{LimitPropBytes, n}
			}
			if err := t.putProp(e.ID, op.Prop); err != nil {
				return err
			}
			count++
			size += op.Prop.Bytes()
		}
		if lim.Props >= 0 && count > lim.Props && count > e.PropCount {
			return &LimitError{LimitProps, count}
		}
		grown := size - e.PropBytes
		e.PropCount, e.PropBytes = count, size
		if err := t.grow(c, grown, 0, 0, FileLimits{Quota: lim.Quota, Entries: -1, Depth: -1}); err != nil {
			return err
		}
		return t.putEntry(e)
	})
}
