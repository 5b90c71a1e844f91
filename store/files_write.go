package store

// Changes to file trees. Each is one transaction of O(depth) small reads
// and writes, whatever the size of the folders involved: the totals move
// along the path (files.go); removed folders are emptied later, in small
// transactions, by the reaper (files_reap.go).
//
// Creating, replacing, removing and moving, and the dead properties
// (files_props.go), commit in groups (Store.batch): what a class does at
// once waits for one log sync, not for one each. Their functions may
// therefore run more than once and change nothing outside the Tx.

import (
	"errors"
	"fmt"
	"time"
)

// FileMkdir creates a folder; its parent must exist (ErrNotFound) and the
// name must be free (ErrExists).
func (s *Store) FileMkdir(tr Tree, p string, now time.Time, lim FileLimits) error {
	return s.FileMkdirBy(tr, p, "", now, lim)
}

// FileMkdirBy is FileMkdir recording the account that creates the folder
// (FileEntry.Uploader), so that an erasure finds the folders a person
// made in group trees.
func (s *Store) FileMkdirBy(tr Tree, p, by string, now time.Time, lim FileLimits) error {
	return s.batch(func(t *Tx) error {
		c, name, err := t.resolveParent(tr, p, true)
		if err != nil {
			return err
		}
		if _, err := t.getEntry(c.last().ID, name); err == nil {
			return ErrExists
		}
		if err := checkName(name, lim); err != nil {
			return err
		}
		id, err := t.bucket(bucketFileEntries).NextSequence()
		if err != nil {
			return err
		}
		if err := t.grow(c, 0, 1, c.childDepth(), lim); err != nil {
			return err
		}
		t.publish(tr.event(p))
		if err := t.touch(c, now); err != nil {
			return err
		}
		return t.putEntry(&FileEntry{ID: id, Parent: c.last().ID, Name: name, Dir: true, ModTime: now.UTC(), Uploader: by})
	})
}

// PutFile describes new content for FilePut.
type PutFile struct {
	Blob Blob
	// Pending says Blob comes from WriteBlob or WriteContent and is not
	// referenced yet; otherwise it must already be referenced (a copy of
	// another file).
	Pending bool
	// Data is the content of a small pending blob kept inline in the
	// database (PendingBlob.Data); nil for blob files.
	Data        []byte
	ContentType string
	ModTime     time.Time
	Limits      FileLimits
	// Check, when set, runs inside the transaction with the current entry
	// (nil if none) and may refuse the write (If-Match). Like the whole
	// transaction it may run more than once (group commit, above), so it
	// only decides.
	Check func(old *FileEntry) error
	// Props, when set, replace the dead properties (COPY).
	Props map[string]DeadProp
	// Uploader is the account writing (FileEntry.Uploader).
	Uploader string
}

// FilePut creates or replaces the file at p with new content in one
// transaction: the entry switches to the new content, the old content
// loses its reference and the totals move by the difference. On any
// error nothing changes. created reports a new entry.
func (s *Store) FilePut(tr Tree, p string, in PutFile) (e *FileEntry, created bool, err error) {
	err = s.batch(func(t *Tx) error {
		c, name, err := t.resolveParent(tr, p, true)
		if err != nil {
			return err
		}
		old, err := t.getEntry(c.last().ID, name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if old != nil {
			if old, err = t.withProps(old); err != nil {
				return err
			}
		}
		if in.Check != nil {
			if err := in.Check(old); err != nil {
				return err
			}
		}
		if old != nil && old.Dir {
			return ErrIsDir
		}
		if err := t.refContent(in); err != nil {
			return err
		}
		ne := &FileEntry{Parent: c.last().ID, Name: name, Size: in.Blob.Size, Hash: in.Blob.Hash,
			ContentType: in.ContentType, ModTime: in.ModTime.UTC(), Uploader: in.Uploader}
		var oldCharge, entries, deepest int64
		if old != nil {
			ne.ID, oldCharge = old.ID, old.charge()
			ne.PropBytes, ne.PropCount, ne.Props = old.PropBytes, old.PropCount, old.Props
			if err := t.unrefBlob(old.Hash); err != nil {
				return err
			}
		} else {
			if err := checkName(name, in.Limits); err != nil {
				return err
			}
			if ne.ID, err = t.bucket(bucketFileEntries).NextSequence(); err != nil {
				return err
			}
			entries, deepest = 1, c.childDepth()
		}
		if in.Props != nil {
			if err := checkProps(in.Props, in.Limits); err != nil {
				return err
			}
			if err := t.setProps(ne, in.Props); err != nil {
				return err
			}
		}
		if err := t.grow(c, ne.charge()-oldCharge, entries, deepest, in.Limits); err != nil {
			return err
		}
		e, created = ne, old == nil
		if created {
			if err := t.touch(c, in.ModTime); err != nil {
				return err
			}
		}
		t.publish(tr.event(p))
		return t.putEntry(ne)
	})
	return e, created, err
}

// FileRemove removes the file or folder (with everything in it) at p. A
// folder's contents leave the totals at once and are deleted by the
// reaper right after the commit.
func (s *Store) FileRemove(tr Tree, p string) error {
	return s.batch(func(t *Tx) error { return t.remove(tr, p) })
}

func (t *Tx) remove(tr Tree, p string) error {
	c, e, err := t.lookup(tr, p, false)
	if err != nil {
		return err
	}
	t.publish(tr.event(p))
	if err := t.touch(c, time.Now()); err != nil {
		return err
	}
	return t.detach(c, e)
}

// detach takes e out of its folder: its totals leave the chain, a file's
// content loses its reference, a folder goes to the trash.
func (t *Tx) detach(c *chain, e *FileEntry) error {
	if err := t.deleteEntry(e); err != nil {
		return err
	}
	if err := t.shift(c, -e.charge(), -e.count(), 0); err != nil {
		return err
	}
	return t.discard(e)
}

// discard drops a detached entry's properties and content; a folder's
// contents go to the reaper.
func (t *Tx) discard(e *FileEntry) error {
	if err := t.deleteProps(e); err != nil {
		return err
	}
	if e.Dir {
		t.reap = true
		return t.bucket(bucketFileTrash).Put(u64(e.ID), nil)
	}
	return t.unrefBlob(e.Hash)
}

// FileMove renames or moves the entry at src to dst, possibly into another
// tree (home → group folder). dst's parent must exist (ErrNotFound); dst
// must not (ErrExists), unless replace is set and both are files: then the
// old dst goes in the same transaction, so a failed move loses nothing.
// Only the moved entry's key and the totals along both paths change,
// whatever it holds; across trees its bytes and entries are checked
// against lim (the destination tree's bounds). No content is copied.
func (s *Store) FileMove(srcTree Tree, src string, dstTree Tree, dst string, lim FileLimits, replace bool) error {
	return s.batch(func(t *Tx) error { return t.move(srcTree, src, dstTree, dst, lim, replace) })
}

func (t *Tx) move(srcTree Tree, src string, dstTree Tree, dst string, lim FileLimits, replace bool) error {
	sc, e, err := t.lookup(srcTree, src, false)
	if err != nil {
		return err
	}
	dc, dname, err := t.resolveParent(dstTree, dst, true)
	if err != nil {
		return err
	}
	for _, d := range dc.dirs {
		if d.ID == e.ID {
			return ErrBadPath // a folder into itself
		}
	}
	if old, err := t.getEntry(dc.last().ID, dname); err == nil {
		if !replace || old.Dir || e.Dir || old.ID == e.ID {
			return ErrExists
		}
		if err := t.detach(dc, old); err != nil {
			return err
		}
	}
	if err := checkName(dname, lim); err != nil {
		return err
	}
	t.publish(srcTree.event(src))
	t.publish(dstTree.event(dst))
	now := time.Now()
	if err := t.touch(sc, now); err != nil {
		return err
	}
	if err := t.touch(dc, now); err != nil {
		return err
	}
	if err := t.deleteEntry(e); err != nil {
		return err
	}
	if err := t.shift(sc, -e.charge(), -e.count(), 0); err != nil {
		return err
	}
	deepest := dc.childDepth() + e.Height
	if srcTree == dstTree {
		// The tree's totals do not change: only the depth is checked.
		lim = FileLimits{Quota: -1, Entries: -1, Depth: lim.Depth}
	}
	if err := t.grow(dc, e.charge(), e.count(), deepest, lim); err != nil {
		return err
	}
	e.Parent, e.Name = dc.last().ID, dname
	return t.putEntry(e)
}

// PropOp is one PROPPATCH instruction: set Prop, or remove it.
type PropOp struct {
	Remove bool
	Prop   DeadProp
}

// deleteTree removes a whole tree: its record at once, its entries through
// the reaper.
func (t *Tx) deleteTree(tr Tree) error {
	r, err := t.treeRec(tr, false)
	if err != nil || r == nil {
		return err
	}
	delete(t.trees, tr)
	t.reap = true
	if err := t.bucket(bucketFileTrash).Put(u64(r.Root), nil); err != nil {
		return err
	}
	return t.bucket(bucketFileRoots).Delete([]byte(tr))
}

// DeleteTree removes a whole tree (a group folder when the group goes).
func (s *Store) DeleteTree(tr Tree) error {
	return s.update(func(t *Tx) error {
		t.publish(tr.event("/"))
		return t.deleteTree(tr)
	})
}

// refContent adds the reference of a PUT's content: a pending blob file,
// a pending inline value (stored now unless the same content is already
// kept), or the content of another file (COPY).
func (t *Tx) refContent(in PutFile) error {
	known := t.bucket(bucketBlobRefs).Get([]byte(in.Blob.Hash)) != nil
	switch {
	case !in.Pending && !known:
		return fmt.Errorf("blob %s: %w", in.Blob.Hash, ErrNotFound)
	case in.Pending && in.Data != nil && !known:
		if err := t.putInline(in.Blob.Hash, in.Data); err != nil {
			return err
		}
	}
	return t.refBlob(in.Blob.Hash)
}
